using System.CommandLine;
using TenantBackup.Cli.Output;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Cli.Commands;

/// <summary>
/// <c>tenantbackup sync</c>: compares a repository's index with its archives and, with <c>--apply</c>, repairs the index
/// (what <c>Sync-BackupIndex</c> does). Exits 3 while a discrepancy is left, so scripts can use it as a check.
/// </summary>
internal sealed class SyncCommand : Command
{
    private readonly Option<string> _repository = SharedOptions.Repository();

    private readonly Option<string> _tenant = new("--tenant")
    {
        Description = "Only the backups and archives of this tenant value.",
        HelpName = "V",
    };

    private readonly Option<bool> _apply = new("--apply")
    {
        Description = "Repair the index: mark missing backups, adopt archives that verify, fix drift, rebuild an unreadable index.",
    };

    private readonly Option<string> _keyFile = SharedOptions.KeyFile("Read encrypted archives (to adopt an orphaned one)");

    private readonly Option<string> _passphraseEnv = SharedOptions.PassphraseEnv("Read encrypted archives (to adopt an orphaned one)");

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the discrepancies as a JSON array on stdout.",
    };

    /// <summary>Creates the command with its options and action.</summary>
    public SyncCommand()
        : base("sync", "Compare a repository's index with its archives; --apply repairs the index.")
    {
        Add(_repository);
        Add(_tenant);
        Add(_apply);
        Add(_keyFile);
        Add(_passphraseEnv);
        Add(_json);
        SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(
            parseResult,
            cancellationToken,
            (stdout, stderr) => RunAsync(parseResult, stdout, stderr, cancellationToken)));
    }

    /// <summary>The engine request from the command line.</summary>
    internal IndexSyncRequest BuildRequest(ParseResult parseResult) => new()
    {
        Repository = parseResult.GetValue(_repository) is { } given ? Path.GetFullPath(given) : null,
        Tenant = parseResult.GetValue(_tenant),
        Apply = parseResult.GetValue(_apply),
        Encryption = SharedOptions.EncryptionKey(parseResult, _keyFile, _passphraseEnv),
    };

    private async Task<int> RunAsync(ParseResult parseResult, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var request = BuildRequest(parseResult);
        using var key = request.Encryption;
        var found = await IndexSync.RunAsync(request, cancellationToken, SharedOptions.Log(verbose: false, stderr)).ConfigureAwait(false);
        if (parseResult.GetValue(_json))
        {
            await JsonOutput.WriteAsync(stdout, found).ConfigureAwait(false);
        }
        else
        {
            var repository = Path.GetFullPath(request.Repository ?? BackupRepository.DefaultPath);
            await stdout.WriteLineAsync(TextOutput.Sync(found, repository, request.Apply)).ConfigureAwait(false);
        }

        return found.All(d => d.Applied) ? ExitCodes.Success : ExitCodes.Integrity;
    }
}
