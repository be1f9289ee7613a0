namespace TenantBackup.HelpGen;

/// <summary>The little markdown the help files use: headings, paragraphs, lists and fenced code.</summary>
internal static class Markdown
{
    /// <summary>The lines of a file, without the yaml front matter.</summary>
    public static string[] Lines(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        if (lines.Length > 0 && lines[0] == "---")
        {
            var end = Array.IndexOf(lines, "---", 1);
            if (end > 0)
            {
                return lines[(end + 1)..];
            }
        }

        return lines;
    }

    /// <summary>The parts under each heading of one level (prefix "## " or "### "), in order, code blocks skipped.</summary>
    public static Dictionary<string, string[]> Sections(string[] lines, string prefix)
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var level = prefix.Length - 1;
        string? heading = null;
        var start = 0;
        var inCode = false;
        for (var i = 0; i <= lines.Length; i++)
        {
            if (i < lines.Length && lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }

            var hashes = i < lines.Length ? lines[i].TakeWhile(c => c == '#').Count() : 0;
            var isBreak = i == lines.Length
                || (!inCode && hashes > 0 && hashes <= level && lines[i].Length > hashes && lines[i][hashes] == ' ');
            if (!isBreak)
            {
                continue;
            }

            if (heading is not null)
            {
                result[heading] = lines[start..i];
            }

            heading = i < lines.Length && hashes == level ? lines[i][prefix.Length..].Trim() : null;
            start = i + 1;
        }

        return result;
    }

    /// <summary>
    /// Paragraphs as MAML wants them: prose lines joined into one line (the help viewer wraps them), list items and code
    /// kept on their own lines.
    /// </summary>
    public static List<string> Paragraphs(IEnumerable<string> lines)
    {
        var paragraphs = new List<string>();
        var current = new List<string>();
        var inCode = false;

        void Flush(bool keepLines)
        {
            if (current.Count > 0)
            {
                paragraphs.Add(keepLines ? string.Join("\n", current) : string.Join(" ", current.Select(l => l.Trim())));
                current.Clear();
            }
        }

        foreach (var line in lines)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                Flush(keepLines: inCode || IsList(current));
                inCode = !inCode;
                continue;
            }

            if (!inCode && line.Trim().Length == 0)
            {
                Flush(keepLines: IsList(current));
                continue;
            }

            current.Add(inCode ? line : StripInline(line));
        }

        Flush(keepLines: inCode || IsList(current));
        return paragraphs;
    }

    private static bool IsList(List<string> lines) => lines.Count > 0 && lines[0].StartsWith("- ", StringComparison.Ordinal);

    // Backticks mark code in markdown; in the console they are noise.
    private static string StripInline(string line) => line.Replace("`", "", StringComparison.Ordinal);
}
