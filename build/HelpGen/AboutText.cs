using System.Text;

namespace TenantBackup.HelpGen;

/// <summary>
/// Turns an about_ topic's markdown into the plain text Get-Help shows: headings flush left in capitals, text indented
/// four spaces and wrapped at 80 columns, code indented eight.
/// </summary>
internal static class AboutText
{
    private const int Width = 80;

    public static string Convert(string markdown)
    {
        var lines = Markdown.Lines(markdown);
        var text = new StringBuilder();
        var title = lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal));
        if (title is not null)
        {
            text.Append("TOPIC\n    ").Append(title[2..].Trim()).Append("\n\n");
        }

        var body = new List<string>();
        var inCode = false;
        foreach (var line in lines.SkipWhile(l => !l.StartsWith("# ", StringComparison.Ordinal)).Skip(1))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                Flush(text, body);
                inCode = !inCode;
                continue;
            }

            if (inCode)
            {
                text.Append(line.Length == 0 ? "" : "        " + line).Append('\n');
            }
            else if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                Flush(text, body);
                text.Append(line[3..].Trim().ToUpperInvariant()).Append('\n');
            }
            else if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                Flush(text, body);
                text.Append("  ").Append(line[4..].Trim()).Append('\n');
            }
            else if (line.Trim().Length == 0)
            {
                Flush(text, body);
                text.Append('\n');
            }
            else
            {
                if (line.StartsWith("- ", StringComparison.Ordinal))
                {
                    Flush(text, body);
                }

                body.Add(line.Trim().Replace("`", "", StringComparison.Ordinal));
            }
        }

        Flush(text, body);
        return CollapseBlankLines(text.ToString()).TrimEnd('\n') + "\n";
    }

    // Wraps one paragraph (or list item) at the width, indented four (list continuation lines six).
    private static void Flush(StringBuilder text, List<string> body)
    {
        if (body.Count == 0)
        {
            return;
        }

        var words = string.Join(" ", body).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var hanging = body[0].StartsWith("- ", StringComparison.Ordinal) ? "      " : "    ";
        var line = new StringBuilder("    ");
        var lineHasWord = false;
        foreach (var word in words)
        {
            if (lineHasWord && line.Length + 1 + word.Length > Width)
            {
                text.Append(line).Append('\n');
                line.Clear().Append(hanging);
                lineHasWord = false;
            }

            line.Append(lineHasWord ? " " : "").Append(word);
            lineHasWord = true;
        }

        text.Append(line).Append('\n');
        body.Clear();
    }

    private static string CollapseBlankLines(string text)
    {
        while (text.Contains("\n\n\n", StringComparison.Ordinal))
        {
            text = text.Replace("\n\n\n", "\n\n", StringComparison.Ordinal);
        }

        return text;
    }
}
