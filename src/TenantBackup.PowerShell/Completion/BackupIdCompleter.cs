using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell.Completion;

/// <summary>
/// Completes <c>-Id</c> with the backup ids of the repository the command line names, newest first; a <c>-Tenant</c>
/// already on the command line narrows them to that tenant's backups.
/// </summary>
public sealed class BackupIdCompleter : IArgumentCompleter
{
    /// <summary>Ids that start with (or match) <paramref name="wordToComplete"/>; the tooltip names tenant, kind, time and size.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        var matches = RepositoryCompletion.Matcher(wordToComplete);
        var tenants = RepositoryCompletion.BoundStrings(fakeBoundParameters, "Tenant");
        return RepositoryCompletion.Backups(fakeBoundParameters)
            .Where(b => tenants.Count == 0 || tenants.Contains(b.Tenant, StringComparer.Ordinal))
            .Where(b => matches(b.Id))
            .OrderByDescending(b => b.CreatedAt)
            .ThenByDescending(b => b.Id, StringComparer.Ordinal)
            .Select(b => new CompletionResult(
                RepositoryCompletion.CompletionText(b.Id),
                b.Id,
                CompletionResultType.ParameterValue,
                $"Tenant {b.Tenant}, {b.Kind}, {RepositoryCompletion.LocalTime(b.CreatedAt)}, {ByteSize.Format(b.Size)}, {b.Status}"))
            .ToList();
    }
}
