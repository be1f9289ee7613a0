namespace TenantBackup.HelpGen;

/// <summary>One cmdlet's help, read from its platyPS-layout markdown file.</summary>
internal sealed record CommandHelp(
    string Name,
    IReadOnlyList<string> Synopsis,
    IReadOnlyList<string> Description,
    IReadOnlyList<ParameterSetHeading> Sets,
    IReadOnlyList<ParameterHelp> Parameters,
    IReadOnlyList<TypeHelp> Inputs,
    IReadOnlyList<TypeHelp> Outputs,
    IReadOnlyList<string> Notes,
    IReadOnlyList<ExampleHelp> Examples,
    IReadOnlyList<LinkHelp> Links)
{
    public static CommandHelp Parse(string path, string markdown)
    {
        var lines = Markdown.Lines(markdown);
        var title = lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))
            ?? throw new FormatException($"{path}: no '# Verb-Noun' title.");
        var name = title[2..].Trim();
        if (!name.Contains('-', StringComparison.Ordinal))
        {
            throw new FormatException($"{path}: the title '{name}' is not Verb-Noun.");
        }

        var sections = Markdown.Sections(lines, "## ");
        string[] Required(string heading) => sections.TryGetValue(heading, out var body)
            ? body
            : throw new FormatException($"{path}: no '## {heading}' section.");

        var parameters = Markdown.Sections(Required("PARAMETERS"), "### ")
            .Where(s => s.Key.StartsWith('-'))
            .Select(s => ParameterHelp.Parse(path, s.Key[1..], s.Value))
            .ToList();

        return new CommandHelp(
            name,
            Markdown.Paragraphs(Required("SYNOPSIS")),
            Markdown.Paragraphs(Required("DESCRIPTION")),
            Markdown.Sections(Required("SYNTAX"), "### ").Keys.Select(ParameterSetHeading.Parse).ToList(),
            parameters,
            Types(sections.GetValueOrDefault("INPUTS")),
            Types(sections.GetValueOrDefault("OUTPUTS")),
            Markdown.Paragraphs(sections.GetValueOrDefault("NOTES") ?? []),
            Markdown.Sections(Required("EXAMPLES"), "### ").Select(s => ExampleHelp.Parse(path, s.Key, s.Value)).ToList(),
            LinkHelp.Parse(sections.GetValueOrDefault("RELATED LINKS") ?? []));
    }

    public string Verb => Name[..Name.IndexOf('-', StringComparison.Ordinal)];

    public string Noun => Name[(Name.IndexOf('-', StringComparison.Ordinal) + 1)..];

    private static List<TypeHelp> Types(string[]? section) => section is null
        ? []
        : Markdown.Sections(section, "### ").Select(s => new TypeHelp(s.Key, Markdown.Paragraphs(s.Value))).ToList();
}

/// <summary>A '### Name' or '### Name (Default)' heading of the SYNTAX section.</summary>
internal sealed record ParameterSetHeading(string Name, bool IsDefault)
{
    private const string DefaultSuffix = "(Default)";

    public static ParameterSetHeading Parse(string heading) => heading.EndsWith(DefaultSuffix, StringComparison.Ordinal)
        ? new ParameterSetHeading(heading[..^DefaultSuffix.Length].Trim(), true)
        : new ParameterSetHeading(heading.Trim(), false);
}

/// <summary>A parameter: its description and the fields of its yaml block.</summary>
internal sealed record ParameterHelp(
    string Name,
    IReadOnlyList<string> Description,
    string Type,
    IReadOnlyList<string> Sets,
    IReadOnlyList<string> Aliases,
    bool Required,
    string Position,
    string DefaultValue,
    string PipelineInput,
    bool Globbing)
{
    public bool AllSets => Sets.Count == 1 && Sets[0] == "(All)";

    public bool IsSwitch => Type is "SwitchParameter" or "System.Management.Automation.SwitchParameter";

    public static ParameterHelp Parse(string path, string name, string[] body)
    {
        var fence = Array.IndexOf(body, "```yaml");
        if (fence < 0)
        {
            throw new FormatException($"{path}: -{name} has no yaml block.");
        }

        var end = Array.IndexOf(body, "```", fence + 1);
        if (end < 0)
        {
            throw new FormatException($"{path}: the yaml block of -{name} is not closed.");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in body[(fence + 1)..end].Where(l => l.Length > 0))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new FormatException($"{path}: -{name}: '{line}' is not 'Key: value'.");
            }

            fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        string Field(string key) => fields.TryGetValue(key, out var value)
            ? value
            : throw new FormatException($"{path}: -{name} has no '{key}:' in its yaml block.");

        static List<string> List(string value) => value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToList();

        return new ParameterHelp(
            name,
            Markdown.Paragraphs(body[..fence]),
            Field("Type"),
            List(Field("Parameter Sets")),
            List(Field("Aliases")),
            Bool(path, name, Field("Required")),
            Field("Position"),
            Field("Default value"),
            Field("Accept pipeline input"),
            fields.TryGetValue("Accept wildcard characters", out var globbing) && Bool(path, name, globbing));
    }

    private static bool Bool(string path, string name, string value) => value switch
    {
        "True" or "true" => true,
        "False" or "false" => false,
        _ => throw new FormatException($"{path}: -{name}: '{value}' is neither True nor False."),
    };
}

/// <summary>An input or output type with what it carries.</summary>
internal sealed record TypeHelp(string Name, IReadOnlyList<string> Description);

/// <summary>An example: its heading, its one powershell block, and the text after it.</summary>
internal sealed record ExampleHelp(string Title, string Code, IReadOnlyList<string> Remarks)
{
    public static ExampleHelp Parse(string path, string title, string[] body)
    {
        var start = Array.IndexOf(body, "```powershell");
        var end = start < 0 ? -1 : Array.IndexOf(body, "```", start + 1);
        if (end < 0)
        {
            throw new FormatException($"{path}: '{title}' has no closed powershell block.");
        }

        return new ExampleHelp(title, string.Join("\n", body[(start + 1)..end]), Markdown.Paragraphs(body[(end + 1)..]));
    }
}

/// <summary>A related link: '[text](uri)'; links to other markdown files become plain text, as in platyPS.</summary>
internal sealed record LinkHelp(string Text, string Uri)
{
    public static List<LinkHelp> Parse(string[] section) => section
        .Select(l => l.Trim())
        .Where(l => l.StartsWith('[') && l.EndsWith(')'))
        .Select(l =>
        {
            var close = l.IndexOf("](", StringComparison.Ordinal);
            var uri = l[(close + 2)..^1];
            return new LinkHelp(l[1..close], uri.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ? "" : uri);
        })
        .ToList();
}
