using System.Collections;
using System.Globalization;
using System.Management.Automation;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;

namespace TenantBackup.PowerShell.Completion;

/// <summary>
/// What the completers share: the backups of the repository the command line names (its <c>-Repository</c>, else the
/// default the cmdlets use), matched against the word being completed. Tab completion must never fail: any problem
/// (no repository yet, an index being rewritten, a path that does not resolve) means no suggestions.
/// </summary>
internal static class RepositoryCompletion
{
    /// <summary>The backups of the repository the command line names, oldest first; empty when it cannot be read.</summary>
    public static IReadOnlyList<BackupInfo> Backups(IDictionary? fakeBoundParameters)
    {
        try
        {
            var repository = RepositoryPath(fakeBoundParameters);
            var root = Path.GetFullPath(string.IsNullOrWhiteSpace(repository) ? BackupRepository.DefaultPath : repository);
            // Completion is no place for the repository's error about a missing folder or index.
            if (!File.Exists(Path.Combine(root, BackupRepository.IndexFileName)))
            {
                return [];
            }

            return BackupRepository.Open(root).List();
        }
        catch (Exception)
        {
            return [];
        }
    }

    /// <summary>
    /// The values bound to <paramref name="name"/> as strings; empty when none. The command line's <c>-Tenant 42</c> reaches a
    /// completer as the number 42, not yet converted to the parameter's type.
    /// </summary>
    public static IReadOnlyList<string> BoundStrings(IDictionary? fakeBoundParameters, string name)
    {
        var value = Unwrap(Bound(fakeBoundParameters, name));
        var values = value is IEnumerable many and not string ? many.Cast<object?>() : [value];
        return values.Select(v => Unwrap(v) switch
            {
                string text => text,
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                _ => null,
            })
            .OfType<string>()
            .ToList();
    }

    /// <summary>A test of whether a value completes <paramref name="wordToComplete"/> (as a prefix, or a wildcard).</summary>
    public static Func<string, bool> Matcher(string? wordToComplete)
    {
        var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        if (!WildcardPattern.ContainsWildcardCharacters(word))
        {
            return candidate => candidate.StartsWith(word, StringComparison.OrdinalIgnoreCase);
        }

        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
        return pattern.IsMatch;
    }

    /// <summary>The text to insert: the value as typed when it is a bare word, else single-quoted.</summary>
    public static string CompletionText(string value) =>
        value.Length > 0 && !value.StartsWith('-') && value.All(IsBareWordCharacter)
            ? value
            : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A backup's time as the table views show it: local, to the second.</summary>
    public static string LocalTime(DateTimeOffset time) => time.LocalDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string? RepositoryPath(IDictionary? fakeBoundParameters)
    {
        var path = Unwrap(Bound(fakeBoundParameters, "Repository")) switch
        {
            string text => text,
            FileSystemInfo info => info.FullName,
            _ => null,
        };
        return string.IsNullOrWhiteSpace(path) ? null : ResolveInSession(path);
    }

    // The cmdlets resolve -Repository against the session's location (and ~, PSDrives), not the process's.
    private static string ResolveInSession(string path)
    {
        try
        {
            var resolved = ScriptBlock.Create("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])")
                .Invoke(path)
                .Select(o => Unwrap(o) as string)
                .FirstOrDefault();
            return string.IsNullOrEmpty(resolved) ? path : resolved;
        }
        catch (Exception)
        {
            return path;
        }
    }

    private static object? Bound(IDictionary? fakeBoundParameters, string name) =>
        fakeBoundParameters is not null && fakeBoundParameters.Contains(name) ? fakeBoundParameters[name] : null;

    private static bool IsBareWordCharacter(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or ':' or '+' or '/' or '\\';

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;
}
