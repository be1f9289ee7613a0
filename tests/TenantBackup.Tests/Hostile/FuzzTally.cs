using System.Text;

namespace TenantBackup.Tests.Hostile;

/// <summary>Counts of outcomes per kind of damage, and the cases that ended any other way, for the assertion and the docs.</summary>
internal sealed class FuzzTally
{
    private readonly SortedDictionary<string, SortedDictionary<string, int>> _counts = new(StringComparer.Ordinal);

    public List<string> Unexpected { get; } = [];

    public int Total { get; private set; }

    public void Add(string kind, string outcome)
    {
        Total++;
        if (!_counts.TryGetValue(kind, out var outcomes))
        {
            _counts[kind] = outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        }

        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
    }

    public void Fail(string kind, int index, string what)
    {
        Add(kind, "UNEXPECTED");
        Unexpected.Add($"#{index} {kind}: {what}");
    }

    public int Count(string outcome) => _counts.Values.Sum(o => o.GetValueOrDefault(outcome));

    /// <summary>A markdown table: one row per kind, one column per outcome.</summary>
    public string Describe()
    {
        var outcomes = _counts.Values.SelectMany(o => o.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.AppendLine($"| mutation | cases | {string.Join(" | ", outcomes)} |");
        text.AppendLine($"|---|---:|{string.Concat(outcomes.Select(_ => "---:|"))}");
        foreach (var (kind, counts) in _counts)
        {
            var cells = outcomes.Select(o => counts.GetValueOrDefault(o));
            text.AppendLine($"| {kind} | {counts.Values.Sum()} | {string.Join(" | ", cells)} |");
        }

        text.AppendLine($"| total | {Total} | {string.Join(" | ", outcomes.Select(Count))} |");
        foreach (var line in Unexpected.Take(20))
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }
}
