using System.CommandLine;
using System.CommandLine.Parsing;
using TenantBackup.Engine;
using TenantBackup.Engine.Logging;

namespace TenantBackup.Cli.Commands;

/// <summary>The options several commands share, made once here so they are named, described and parsed alike.</summary>
internal static class SharedOptions
{
    /// <summary><c>--connection CS</c>.</summary>
    public static Option<string> Connection() => new("--connection")
    {
        Description = "Npgsql connection string; missing parts come from PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD and ~/.pgpass.",
        HelpName = "CS",
    };

    /// <summary><c>--repository DIR</c>.</summary>
    public static Option<string> Repository() => new("--repository")
    {
        Description = "Repository folder (default: $TENANTBACKUP_REPOSITORY, else a per-user data folder).",
        HelpName = "DIR",
    };

    /// <summary><c>--include-table PATTERN</c> (repeatable).</summary>
    public static Option<string[]> IncludeTable(string description) => new("--include-table")
    {
        Description = description,
        HelpName = "PATTERN",
    };

    /// <summary><c>--exclude-table PATTERN</c> (repeatable).</summary>
    public static Option<string[]> ExcludeTable(string description) => new("--exclude-table")
    {
        Description = description,
        HelpName = "PATTERN",
    };

    /// <summary><c>--lock-timeout DURATION</c>.</summary>
    public static Option<TimeSpan?> LockTimeout() => new("--lock-timeout")
    {
        Description = $"How long to wait for the tenant's lock: {Durations.Forms}. Default 30s.",
        HelpName = "DURATION",
        CustomParser = ParseDuration,
    };

    /// <summary><c>--json</c>.</summary>
    public static Option<bool> Json() => new("--json")
    {
        Description = "Print the result as JSON on stdout (progress and warnings stay on stderr).",
    };

    /// <summary><c>--verbose</c>.</summary>
    public static Option<bool> Verbose() => new("--verbose")
    {
        Description = "Print the engine's steps on stderr.",
    };

    /// <summary><c>--key-file PATH</c>.</summary>
    public static Option<string> KeyFile(string use) => new("--key-file")
    {
        Description = $"{use} with the key in this file: 32 random bytes, or their base64 (openssl rand -base64 32 > FILE).",
        HelpName = "PATH",
    };

    /// <summary><c>--passphrase-env VAR</c>: the passphrase itself never appears on the command line.</summary>
    public static Option<string> PassphraseEnv(string use) => new("--passphrase-env")
    {
        Description = $"{use} with the passphrase held by this environment variable (stretched with PBKDF2-SHA256).",
        HelpName = "VAR",
    };

    /// <summary>
    /// The key of <c>--key-file</c> or <c>--passphrase-env</c>, or null when neither is given. The caller disposes it.
    /// </summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.InvalidArgument"/>: both given, an unusable key file, or a variable that is unset or empty.
    /// </exception>
    public static EncryptionKey? EncryptionKey(ParseResult parseResult, Option<string> keyFile, Option<string> passphraseEnv)
    {
        var file = parseResult.GetValue(keyFile);
        var variable = parseResult.GetValue(passphraseEnv);
        if (file is not null && variable is not null)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, "Give --key-file or --passphrase-env, not both: an archive has one key.", "--passphrase-env");
        }

        if (file is not null)
        {
            return Engine.EncryptionKey.FromKeyFile(Path.GetFullPath(file));
        }

        if (variable is null)
        {
            return null;
        }

        var passphrase = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(passphrase))
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                $"The environment variable {variable} named by --passphrase-env is not set or empty; set it to the passphrase.",
                "--passphrase-env");
        }

        return Engine.EncryptionKey.FromPassphrase(passphrase);
    }

    /// <summary>The engine request's connection string from <c>--connection</c> (or the <c>PG*</c> variables alone).</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.InvalidArgument"/> when it cannot be parsed.</exception>
    public static string ConnectionString(ParseResult parseResult, Option<string> connection)
        => ConnectionStrings.Build(parseResult.GetValue(connection), null, null, null, null, null);

    /// <summary>The engine's log on stderr: warnings only, or every step with <c>--verbose</c>.</summary>
    public static IEngineLog Log(bool verbose, TextWriter stderr) => new TextLog(
        verbose ? EngineLogLevel.Debug : EngineLogLevel.Warning,
        (level, text) => stderr.WriteLine($"tenantbackup: {Label(level)}{text}"));

    /// <summary>A validator that refuses an empty or blank option value.</summary>
    public static void RequireText(OptionResult result)
    {
        if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
        {
            result.AddError($"{result.Option.Name} must not be empty.");
        }
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
        if (Durations.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration: give {Durations.Forms}.");
        return null;
    }

    private static string Label(EngineLogLevel level) => level switch
    {
        >= EngineLogLevel.Warning => "warning: ",
        EngineLogLevel.Information => string.Empty,
        _ => "debug: ",
    };
}
