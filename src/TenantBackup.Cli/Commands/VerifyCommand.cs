using System.CommandLine;
using TenantBackup.Cli.Output;
using TenantBackup.Engine;
using TenantBackup.Engine.Integrity;

namespace TenantBackup.Cli.Commands;

/// <summary>
/// <c>tenantbackup verify</c>: checks backups without restoring them (what <c>Test-BackupIntegrity</c> does); exit 3 when
/// any is not valid or fails its test restore, 6 when the only failures are keys that do not fit encrypted archives.
/// </summary>
internal sealed class VerifyCommand : Command
{
    private readonly Argument<string[]> _sources = new("source")
    {
        Description = "Backup ids or archive files; default: every backup in the repository.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<string> _repository = SharedOptions.Repository();

    private readonly Option<bool> _quick = new("--quick")
    {
        Description = "Check the archive file's SHA-256 only (against its .sha256 and the index); the entries are not read.",
    };

    private readonly Option<bool> _restoreTest = new("--restore-test")
    {
        Description = "Also restore each valid backup into --connection's database in a transaction that is always rolled back.",
    };

    private readonly Option<string> _connection = SharedOptions.Connection();

    private readonly Option<string> _keyFile = SharedOptions.KeyFile("Read encrypted archives");

    private readonly Option<string> _passphraseEnv = SharedOptions.PassphraseEnv("Read encrypted archives");

    private readonly Option<bool> _json = SharedOptions.Json();

    private readonly Option<bool> _verbose = SharedOptions.Verbose();

    /// <summary>Creates the command with its options and action.</summary>
    public VerifyCommand()
        : base("verify", "Check backups: checksums, every entry against the manifest, optionally a rolled-back test restore.")
    {
        Add(_sources);
        Add(_repository);
        Add(_quick);
        Add(_restoreTest);
        Add(_connection);
        Add(_keyFile);
        Add(_passphraseEnv);
        Add(_json);
        Add(_verbose);
        Validators.Add(result =>
        {
            if (result.GetResult(_connection) is not null && !result.GetValue(_restoreTest))
            {
                result.AddError("--connection is only used with --restore-test.");
            }

            if (result.GetValue(_quick) && result.GetValue(_restoreTest))
            {
                result.AddError("--quick and --restore-test cannot be combined: a test restore reads the whole archive.");
            }
        });
        SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(
            parseResult,
            cancellationToken,
            (stdout, stderr) => RunAsync(parseResult, stdout, stderr, cancellationToken)));
    }

    /// <summary>
    /// The engine request for a parsed <c>verify</c> command line; paths are made absolute against the current directory.
    /// </summary>
    /// <exception cref="TenantBackupException">A value the engine could not use (e.g. an unparseable connection string).</exception>
    internal static IntegrityRequest BuildRequest(ParseResult parseResult)
    {
        var command = (VerifyCommand)parseResult.CommandResult.Command;
        var sources = parseResult.GetValue(command._sources) ?? [];
        var restoreTest = parseResult.GetValue(command._restoreTest);
        return new IntegrityRequest
        {
            Ids = sources.Where(s => !RestoreCommand.IsPath(s, File.Exists)).ToList(),
            Paths = sources.Where(s => RestoreCommand.IsPath(s, File.Exists)).Select(Path.GetFullPath).ToList(),
            Repository = parseResult.GetValue(command._repository) is { } repository ? Path.GetFullPath(repository) : null,
            Quick = parseResult.GetValue(command._quick),
            RestoreTest = restoreTest,
            ConnectionString = restoreTest ? SharedOptions.ConnectionString(parseResult, command._connection) : null,
            Encryption = SharedOptions.EncryptionKey(parseResult, command._keyFile, command._passphraseEnv),
        };
    }

    private async Task<int> RunAsync(ParseResult parseResult, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = BuildRequest(parseResult);
        using var key = request.Encryption;
        var engine = new IntegrityEngine(SharedOptions.Log(parseResult.GetValue(_verbose), stderr));
        var results = await engine.VerifyAsync(request, new StderrProgress(stderr), cancellationToken).ConfigureAwait(false);
        await (parseResult.GetValue(_json)
            ? JsonOutput.WriteAsync(stdout, results)
            : stdout.WriteLineAsync(IntegrityText.Format(results))).ConfigureAwait(false);
        var failed = results.Where(r => !r.Passed).ToList();
        return failed.Count == 0 ? ExitCodes.Success
            : failed.TrueForAll(r => r.Checks.Any(c => c.Name == IntegrityChecks.Decryption && c.Outcome == CheckOutcome.Failed))
                ? ExitCodes.Decryption
                : ExitCodes.Integrity;
    }
}
