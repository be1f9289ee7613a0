using System.CommandLine;
using TenantBackup.Cli.Output;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Cli.Commands;

/// <summary><c>tenantbackup list</c>: the backups in a repository's index, oldest first (what <c>Get-TenantBackup</c> does).</summary>
internal sealed class ListCommand : Command
{
    private readonly Option<string> _repository = SharedOptions.Repository();

    private readonly Option<string> _tenant = new("--tenant")
    {
        Description = "Only the backups of this tenant value.",
        HelpName = "V",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the backups as a JSON array on stdout.",
    };

    /// <summary>Creates the command with its options and action.</summary>
    public ListCommand()
        : base("list", "List the backups in a repository, oldest first.")
    {
        Add(_repository);
        Add(_tenant);
        Add(_json);
        SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(
            parseResult,
            cancellationToken,
            (stdout, _) => RunAsync(parseResult, stdout)));
    }

    private async Task<int> RunAsync(ParseResult parseResult, TextWriter stdout)
    {
        var path = parseResult.GetValue(_repository) is { } given ? Path.GetFullPath(given) : null;
        var repository = BackupRepository.Open(path);
        var backups = repository.List(parseResult.GetValue(_tenant));

        if (parseResult.GetValue(_json))
        {
            await JsonOutput.WriteAsync(stdout, backups).ConfigureAwait(false);
        }
        else
        {
            await stdout.WriteLineAsync(TextOutput.List(backups, repository.Root)).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
