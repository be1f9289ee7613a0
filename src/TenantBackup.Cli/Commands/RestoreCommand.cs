using System.CommandLine;
using System.CommandLine.Parsing;
using TenantBackup.Cli.Output;
using TenantBackup.Engine;
using TenantBackup.Engine.Restore;

namespace TenantBackup.Cli.Commands;

/// <summary>
/// <c>tenantbackup restore ID|PATH</c>: one backup into the database, in one transaction (what <c>Restore-TenantBackup</c>
/// does); <c>--dry-run</c> prints the plan instead and changes nothing.
/// </summary>
internal sealed class RestoreCommand : Command
{
    /// <summary>What the command says when it would have to ask but no one can answer.</summary>
    public const string ConfirmationRequired = "restore changes the database; pass --yes to confirm";

    private static readonly string[] _archiveExtensions = [".tar.zst", ".tar.gz", ".tar", ".tbenc"];

    private readonly ConsoleInput? _input;

    private readonly Argument<string> _source = new("source")
    {
        Description = "A backup id from the repository's index, or an archive file (.tar.zst, .tar.gz, .tar, or .tbenc when encrypted).",
        HelpName = "ID|PATH",
    };

    private readonly Option<string> _connection = SharedOptions.Connection();

    private readonly Option<string> _repository = SharedOptions.Repository();

    private readonly Option<string> _targetTenant = new("--target-tenant")
    {
        Description = "Restore into this tenant (a clone); default: the tenant the backup was taken from.",
        HelpName = "V",
    };

    private readonly Option<string[]> _rootValue = new("--root-value")
    {
        Description = "Set a column of the new tenant's root row, e.g. slug=acme-staging (repeatable; COLUMN= is an empty string); "
            + "for a clone whose root table has a unique column.",
        HelpName = "COLUMN=VALUE",
    };

    private readonly Option<string> _mode = new("--mode")
    {
        Description = "replace (default: delete the tenant's rows, then insert), merge (upsert by primary key) "
            + "or append (insert only rows whose key is absent).",
        HelpName = "replace|merge|append",
    };

    private readonly Option<string> _keyCollision = new("--key-collision")
    {
        Description = "remap (default: give keys other tenants use new values) or fail (refuse and list the collisions).",
        HelpName = "remap|fail",
    };

    private readonly Option<bool> _noPreBackup = new("--no-pre-backup")
    {
        Description = "Skip the safety backup of the target tenant taken before any change (no undo).",
    };

    private readonly Option<bool> _disableTriggers = new("--disable-triggers")
    {
        Description = "Disable user triggers of the restored tables while rows are written (foreign keys stay checked).",
    };

    private readonly Option<string[]> _includeTable = SharedOptions.IncludeTable(
        "Wildcard of the backup's tables (table or schema.table) to restore (repeatable); default: all.");

    private readonly Option<string[]> _excludeTable = SharedOptions.ExcludeTable(
        "Wildcard of the backup's tables (table or schema.table) to leave out (repeatable).");

    private readonly Option<string> _filesPath = new("--files-path")
    {
        Description = "Where the backup's tenant files go; default: where they were backed up from "
            + "(refused for another tenant unless --skip-files).",
        HelpName = "DIR",
    };

    private readonly Option<bool> _skipFiles = new("--skip-files")
    {
        Description = "Leave the backup's tenant files out of the restore.",
    };

    private readonly Option<TimeSpan?> _lockTimeout = SharedOptions.LockTimeout();

    private const string EncryptionUse = "Read an encrypted archive (and encrypt the safety backup)";

    private readonly Option<string> _keyFile = SharedOptions.KeyFile(EncryptionUse);

    private readonly Option<string> _passphraseEnv = SharedOptions.PassphraseEnv(EncryptionUse);

    private readonly Option<bool> _dryRun = new("--dry-run")
    {
        Description = "Print what the restore would do and change nothing; exit 5 when it would be refused.",
    };

    private readonly Option<bool> _yes = new("--yes")
    {
        Description = "Restore without asking; required when stdin is not a terminal.",
    };

    private readonly Option<bool> _json = SharedOptions.Json();

    private readonly Option<bool> _verbose = SharedOptions.Verbose();

    /// <summary>Creates the command; <paramref name="input"/> answers its confirmation prompt (null: the process's stdin).</summary>
    public RestoreCommand(ConsoleInput? input = null)
        : base("restore", "Restore a tenant from a backup, in one transaction; --dry-run prints the plan.")
    {
        _input = input;
        _mode.AcceptOnlyFromAmong("replace", "merge", "append");
        _keyCollision.AcceptOnlyFromAmong("remap", "fail");
        _source.Validators.Add(RequireText);
        _targetTenant.Validators.Add(SharedOptions.RequireText);
        _rootValue.Validators.Add(RequireColumnValue);

        Add(_source);
        Add(_connection);
        Add(_repository);
        Add(_targetTenant);
        Add(_rootValue);
        Add(_mode);
        Add(_keyCollision);
        Add(_noPreBackup);
        Add(_disableTriggers);
        Add(_includeTable);
        Add(_excludeTable);
        Add(_filesPath);
        Add(_skipFiles);
        Add(_lockTimeout);
        Add(_keyFile);
        Add(_passphraseEnv);
        Add(_dryRun);
        Add(_yes);
        Add(_json);
        Add(_verbose);
        SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(
            parseResult,
            cancellationToken,
            (stdout, stderr) => RunAsync(parseResult, stdout, stderr, cancellationToken)));
    }

    /// <summary>
    /// The engine request for a parsed <c>restore</c> command line; relative paths are made absolute against the current
    /// directory.
    /// </summary>
    /// <exception cref="TenantBackupException">A value the engine could not use (e.g. an unparseable connection string).</exception>
    internal static RestoreRequest BuildRequest(ParseResult parseResult)
    {
        var command = (RestoreCommand)parseResult.CommandResult.Command;
        var source = parseResult.GetRequiredValue(command._source);
        var isPath = IsPath(source, File.Exists);
        var request = new RestoreRequest
        {
            ConnectionString = SharedOptions.ConnectionString(parseResult, command._connection),
            BackupId = isPath ? null : source,
            ArchivePath = isPath ? Path.GetFullPath(source) : null,
            Repository = parseResult.GetValue(command._repository) is { } repository ? Path.GetFullPath(repository) : null,
            TargetTenant = parseResult.GetValue(command._targetTenant),
            RootValues = RootValues(parseResult.GetValue(command._rootValue) ?? []),
            NoPreBackup = parseResult.GetValue(command._noPreBackup),
            DisableTriggers = parseResult.GetValue(command._disableTriggers),
            IncludeTables = parseResult.GetValue(command._includeTable) ?? [],
            ExcludeTables = parseResult.GetValue(command._excludeTable) ?? [],
            FilesPath = parseResult.GetValue(command._filesPath) is { } filesPath ? Path.GetFullPath(filesPath) : null,
            SkipFiles = parseResult.GetValue(command._skipFiles),
            Encryption = SharedOptions.EncryptionKey(parseResult, command._keyFile, command._passphraseEnv),
        };

        if (parseResult.GetValue(command._mode) is { } mode)
        {
            request = request with
            {
                Mode = mode switch
                {
                    "merge" => RestoreMode.Merge,
                    "append" => RestoreMode.Append,
                    _ => RestoreMode.Replace,
                },
            };
        }

        if (parseResult.GetValue(command._keyCollision) is { } keyCollision)
        {
            request = request with { KeyCollision = keyCollision == "fail" ? KeyCollisionAction.Fail : KeyCollisionAction.Remap };
        }

        if (parseResult.GetValue(command._lockTimeout) is { } lockTimeout)
        {
            request = request with { LockTimeout = lockTimeout };
        }

        return request;
    }

    /// <summary><c>--root-value COLUMN=VALUE</c> pairs by column; the value is everything after the first <c>=</c>.</summary>
    /// <exception cref="TenantBackupException">A column given twice.</exception>
    internal static IReadOnlyDictionary<string, string?> RootValues(IEnumerable<string> pairs)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            var column = pair[..separator];
            if (!values.TryAdd(column, pair[(separator + 1)..]))
            {
                throw new TenantBackupException(
                    ErrorCode.InvalidArgument, $"--root-value sets the column {column} twice; give each column once.", column);
            }
        }

        return values;
    }

    /// <summary>
    /// True when the command's argument names an archive file rather than a backup id: a file exists there, or it has a
    /// folder separator or an archive extension (neither of which an id ever has).
    /// </summary>
    internal static bool IsPath(string source, Func<string, bool> fileExists)
        => fileExists(source)
            || source.Contains('/', StringComparison.Ordinal)
            || source.Contains('\\', StringComparison.Ordinal)
            || source.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || _archiveExtensions.Any(extension => source.EndsWith(extension, StringComparison.OrdinalIgnoreCase));

    /// <summary>What the confirmation prompt names: the backup or archive, the target tenant, the database and the mode.</summary>
    internal static string Describe(RestoreRequest request)
    {
        var source = request.BackupId is not null ? $"backup {request.BackupId}" : $"archive '{request.ArchivePath}'";
        var into = request.TargetTenant is not null ? $"tenant '{request.TargetTenant}'" : "the backup's own tenant";
        var mode = request.Mode.ToString().ToLowerInvariant();
        var safety = request.NoPreBackup ? ", without a safety backup" : string.Empty;
        return $"{source} into {into} of {ConnectionStrings.Describe(request.ConnectionString)} (mode {mode}{safety})";
    }

    private async Task<int> RunAsync(ParseResult parseResult, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = BuildRequest(parseResult);
        using var key = request.Encryption;
        var json = parseResult.GetValue(_json);
        var engine = new RestoreEngine(SharedOptions.Log(parseResult.GetValue(_verbose), stderr));
        var progress = new StderrProgress(stderr);

        if (parseResult.GetValue(_dryRun))
        {
            var plan = await engine.PlanAsync(request, progress, cancellationToken).ConfigureAwait(false);
            return await ReportAsync(plan, json, stdout, stderr).ConfigureAwait(false);
        }

        if (!parseResult.GetValue(_yes) && await ConfirmAsync(request, stderr, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return refused;
        }

        var result = await engine.RestoreAsync(request, progress, cancellationToken).ConfigureAwait(false);
        await (json ? JsonOutput.WriteAsync(stdout, result) : stdout.WriteLineAsync(TextOutput.Restore(result))).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>
    /// Prints a <c>--dry-run</c> plan (JSON or text) on stdout; returns 0 when the restore could proceed, else
    /// <see cref="ExitCodes.Refused"/>, with the problems also on stderr (where a script's log catches them).
    /// </summary>
    internal static async Task<int> ReportAsync(RestorePlan plan, bool json, TextWriter stdout, TextWriter stderr)
    {
        await (json ? JsonOutput.WriteAsync(stdout, plan) : stdout.WriteLineAsync(TextOutput.Plan(plan))).ConfigureAwait(false);
        if (plan.CanRestore)
        {
            return ExitCodes.Success;
        }

        foreach (var problem in plan.Problems)
        {
            await stderr.WriteLineAsync($"tenantbackup: the restore would be refused: {problem}").ConfigureAwait(false);
        }

        return ExitCodes.Refused;
    }

    // Null when the person at the terminal said yes; else the exit code. Without a terminal no one can answer, and a
    // script that forgot --yes must fail rather than hang or restore unasked.
    private async Task<int?> ConfirmAsync(RestoreRequest request, TextWriter stderr, CancellationToken cancellationToken)
    {
        var input = _input ?? ConsoleInput.FromConsole();
        if (!input.IsTerminal)
        {
            await stderr.WriteLineAsync($"tenantbackup: usage: {ConfirmationRequired}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        await stderr.WriteAsync($"Restore {Describe(request)}? [y/N] ").ConfigureAwait(false);
        await stderr.FlushAsync(cancellationToken).ConfigureAwait(false);
        var answer = (await input.Reader.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.Trim();
        if (string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase)
            || string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        await stderr.WriteLineAsync("tenantbackup: not restored; nothing was changed.").ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    private static void RequireColumnValue(OptionResult result)
    {
        foreach (var pair in result.GetValueOrDefault<string[]>() ?? [])
        {
            if (pair.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                result.AddError($"--root-value takes COLUMN=VALUE (e.g. slug=acme-staging; COLUMN= for an empty string), not '{pair}'.");
            }
        }
    }

    private static void RequireText(ArgumentResult result)
    {
        if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
        {
            result.AddError("The backup id or archive path must not be empty.");
        }
    }
}
