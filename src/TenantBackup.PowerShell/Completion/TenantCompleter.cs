using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace TenantBackup.PowerShell.Completion;

/// <summary>Completes <c>-Tenant</c> with the tenants that have backups in the repository the command line names.</summary>
public sealed class TenantCompleter : IArgumentCompleter
{
    /// <summary>
    /// Tenants whose value starts with (or matches) <paramref name="wordToComplete"/>, each with its backups in the tooltip.
    /// </summary>
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        var matches = RepositoryCompletion.Matcher(wordToComplete);
        return RepositoryCompletion.Backups(fakeBoundParameters)
            .GroupBy(b => b.Tenant, StringComparer.Ordinal)
            .Where(g => matches(g.Key))
            .OrderBy(g => g.Key, TenantOrder.Instance)
            .Select(g =>
            {
                var newest = g.MaxBy(b => b.CreatedAt)!;
                var tooltip = string.Format(
                    CultureInfo.InvariantCulture,
                    "Tenant {0}: {1} backup{2}, newest {3} ({4})",
                    g.Key,
                    g.Count(),
                    g.Count() == 1 ? string.Empty : "s",
                    RepositoryCompletion.LocalTime(newest.CreatedAt),
                    newest.Id);
                var text = RepositoryCompletion.CompletionText(g.Key);
                return new CompletionResult(text, g.Key, CompletionResultType.ParameterValue, tooltip);
            })
            .ToList();
    }

    /// <summary>Numeric tenants in numeric order (7 before 42), the others after them in ordinal order.</summary>
    private sealed class TenantOrder : IComparer<string>
    {
        public static readonly TenantOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var xNumber = long.TryParse(x, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var xValue);
            var yNumber = long.TryParse(y, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var yValue);
            return (xNumber, yNumber) switch
            {
                (true, true) => xValue.CompareTo(yValue),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
        }
    }
}
