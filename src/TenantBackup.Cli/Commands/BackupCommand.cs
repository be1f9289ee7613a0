using System.CommandLine;
using System.CommandLine.Parsing;
using TenantBackup.Cli.Output;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;

namespace TenantBackup.Cli.Commands;

/// <summary><c>tenantbackup backup</c>: one tenant into an archive in a repository (what <c>New-TenantBackup</c> does).</summary>
internal sealed class BackupCommand : Command
{
    private readonly Option<string> _connection = SharedOptions.Connection();

    private readonly Option<string> _tenant = new("--tenant")
    {
        Description = "The tenant value to back up, e.g. 42 or a uuid.",
        HelpName = "V",
        Required = true,
    };

    private readonly Option<string> _tenantColumn = new("--tenant-column")
    {
        Description = "The column that carries the tenant.",
        HelpName = "C",
        DefaultValueFactory = _ => BackupRequest.DefaultTenantColumn,
    };

    private readonly Option<string> _repository = SharedOptions.Repository();

    private readonly Option<string> _compression = new("--compression")
    {
        Description = "Archive compression (default zstd; falls back to gzip with a warning when libzstd is missing " +
            "and this is not given).",
        HelpName = "zstd|gzip|none",
    };

    private readonly Option<int?> _compressionLevel = new("--compression-level")
    {
        Description = "Compression level (zstd 1-22, gzip 1-9); default: the codec's own.",
        HelpName = "N",
        CustomParser = ParseCompressionLevel,
    };

    private readonly Option<string[]> _schema = new("--schema")
    {
        Description = "A schema to look for tenant tables in (repeatable); default: every user schema.",
        HelpName = "S",
    };

    private readonly Option<string[]> _includeTable = SharedOptions.IncludeTable(
        "Wildcard of tables (table or schema.table) to keep (repeatable).");

    private readonly Option<string[]> _excludeTable = SharedOptions.ExcludeTable(
        "Wildcard of tables (table or schema.table) to leave out (repeatable).");

    private readonly Option<string[]> _includePath = new("--include-path")
    {
        Description = "A folder of the tenant's files to store under files/ (repeatable).",
        HelpName = "DIR",
    };

    private readonly Option<string> _message = new("--message")
    {
        Description = "Free text stored with the backup.",
        HelpName = "M",
    };

    private readonly Option<TimeSpan?> _lockTimeout = SharedOptions.LockTimeout();

    private readonly Option<string> _keyFile = SharedOptions.KeyFile("Encrypt the archive (AES-256-GCM)");

    private readonly Option<string> _passphraseEnv = SharedOptions.PassphraseEnv("Encrypt the archive (AES-256-GCM)");

    private readonly Option<bool> _json = SharedOptions.Json();

    private readonly Option<bool> _verbose = SharedOptions.Verbose();

    /// <summary>Creates the command with its options and action.</summary>
    public BackupCommand()
        : base("backup", "Back up one tenant's rows into a checksummed archive in a repository.")
    {
        _compression.AcceptOnlyFromAmong("zstd", "gzip", "none");
        _tenant.Validators.Add(SharedOptions.RequireText);
        _tenantColumn.Validators.Add(SharedOptions.RequireText);

        Add(_connection);
        Add(_tenant);
        Add(_tenantColumn);
        Add(_repository);
        Add(_compression);
        Add(_compressionLevel);
        Add(_schema);
        Add(_includeTable);
        Add(_excludeTable);
        Add(_includePath);
        Add(_message);
        Add(_lockTimeout);
        Add(_keyFile);
        Add(_passphraseEnv);
        Add(_json);
        Add(_verbose);
        SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(
            parseResult,
            cancellationToken,
            (stdout, stderr) => RunAsync(parseResult, stdout, stderr, cancellationToken)));
    }

    /// <summary>
    /// The engine request for a parsed <c>backup</c> command line; relative paths are made absolute against the current
    /// directory.
    /// </summary>
    /// <exception cref="TenantBackupException">A value the engine could not use (e.g. an unparseable connection string).</exception>
    internal static BackupRequest BuildRequest(ParseResult parseResult)
    {
        var command = (BackupCommand)parseResult.CommandResult.Command;
        var request = new BackupRequest
        {
            ConnectionString = SharedOptions.ConnectionString(parseResult, command._connection),
            Tenant = parseResult.GetRequiredValue(command._tenant),
            TenantColumn = parseResult.GetValue(command._tenantColumn) ?? BackupRequest.DefaultTenantColumn,
            Repository = parseResult.GetValue(command._repository) is { } repository ? Path.GetFullPath(repository) : null,
            CompressionLevel = parseResult.GetValue(command._compressionLevel),
            Schemas = parseResult.GetValue(command._schema) ?? [],
            IncludeTables = parseResult.GetValue(command._includeTable) ?? [],
            ExcludeTables = parseResult.GetValue(command._excludeTable) ?? [],
            IncludePaths = (parseResult.GetValue(command._includePath) ?? []).Select(Path.GetFullPath).ToArray(),
            Message = parseResult.GetValue(command._message),
            Encryption = SharedOptions.EncryptionKey(parseResult, command._keyFile, command._passphraseEnv),
        };

        if (parseResult.GetValue(command._compression) is { } compression)
        {
            request = request with
            {
                Compression = compression switch
                {
                    "gzip" => Compression.Gzip,
                    "none" => Compression.None,
                    _ => Compression.Zstd,
                },
                CompressionExplicit = true,
            };
        }

        if (parseResult.GetValue(command._lockTimeout) is { } lockTimeout)
        {
            request = request with { LockTimeout = lockTimeout };
        }

        return request;
    }

    private async Task<int> RunAsync(ParseResult parseResult, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = BuildRequest(parseResult);
        using var key = request.Encryption;
        var log = SharedOptions.Log(parseResult.GetValue(_verbose), stderr);
        var backup = await new BackupEngine(log)
            .BackupAsync(request, new StderrProgress(stderr), cancellationToken)
            .ConfigureAwait(false);

        if (parseResult.GetValue(_json))
        {
            await JsonOutput.WriteAsync(stdout, backup).ConfigureAwait(false);
        }
        else
        {
            await stdout.WriteLineAsync(TextOutput.Backup(backup)).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    private static int? ParseCompressionLevel(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var level)
            && level is >= 1 and <= 22)
        {
            return level;
        }

        result.AddError($"'{text}' is not a compression level: give a whole number from 1 to 22.");
        return null;
    }
}
