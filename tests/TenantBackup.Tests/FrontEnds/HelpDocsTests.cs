using System.Management.Automation;
using System.Management.Automation.Language;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The help source in module/docs: one platyPS-style markdown file per cmdlet and about_TenantBackup. Read against the
/// cmdlet assembly, so a parameter added, renamed or removed without its help fails here, and every example is parsed by
/// PowerShell's own parser and bound by name against the real cmdlets.
/// </summary>
public partial class HelpDocsTests
{
    private static readonly string[] _sectionOrder =
        ["## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "## PARAMETERS", "## INPUTS", "## OUTPUTS", "## NOTES"];

    private static string DocsFolder => Path.Combine(TestPaths.RepoRoot, "module", "docs");

    public static TheoryData<string> CmdletNames() => ScriptTests.CmdletNames();

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdletHasItsHelpFileWithTheSectionsInOrder(string cmdlet)
    {
        var lines = ReadDoc(cmdlet);

        Assert.Equal($"# {cmdlet}", lines.First(l => l.StartsWith("# ", StringComparison.Ordinal)));
        var positions = _sectionOrder.Select(s => Array.IndexOf(lines, s)).ToList();
        Assert.DoesNotContain(-1, positions);
        Assert.Equal(positions.Order(), positions);
        Assert.False(string.IsNullOrWhiteSpace(SectionText(lines, "## SYNOPSIS")), "The synopsis is empty.");
        Assert.False(string.IsNullOrWhiteSpace(SectionText(lines, "## DESCRIPTION")), "The description is empty.");
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryParameterIsDocumentedAndNoOtherIs(string cmdlet)
    {
        var type = CmdletType(cmdlet);
        var documented = Section(ReadDoc(cmdlet), "## PARAMETERS")
            .Where(l => l.StartsWith("### -", StringComparison.Ordinal))
            .Select(l => l["### -".Length..].Trim())
            .ToList();
        var expected = Parameters(type).Keys
            .Concat(SupportsShouldProcess(type) ? ["WhatIf", "Confirm"] : [])
            .Order(StringComparer.Ordinal);

        Assert.Equal(expected, documented.Order(StringComparer.Ordinal));
        Assert.Equal(documented.Count, documented.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        foreach (var parameter in documented)
        {
            var text = SectionText(Section(ReadDoc(cmdlet), "## PARAMETERS"), $"### -{parameter}");
            Assert.False(string.IsNullOrWhiteSpace(text.Split("```", 2)[0]), $"-{parameter} has no description.");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EachCmdletHasAPipelineAWhatIfAndAnUnattendedExample(string cmdlet)
    {
        var examples = Examples(cmdlet);

        Assert.True(examples.Count >= 3, $"{cmdlet} has {examples.Count} examples; three or more are needed.");
        Assert.All(examples, e => Assert.False(string.IsNullOrWhiteSpace(e.Prose), $"'{e.Title}' has no sentence."));
        Assert.All(examples, e => Assert.Contains(Commands(e.Ast), c => Is(c, cmdlet)));
        Assert.Contains(examples, e => e.Ast.FindAll(a => a is PipelineAst p && p.PipelineElements.Count > 1
            && p.PipelineElements.OfType<CommandAst>().Any(c => Is(c, cmdlet)), searchNestedScriptBlocks: true).Any());
        Assert.Contains(examples, e => Commands(e.Ast).Any(c => Passes(c, "WhatIf")));
        Assert.Contains(examples, e => Commands(e.Ast).Any(c => Passes(c, "Force") || ConfirmFalse(c))
            || e.Prose.Contains("scheduled task", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryExampleParsesAndCallsOnlyRealCmdletsAndParameters(string cmdlet)
    {
        foreach (var example in Examples(cmdlet))
        {
            AssertParsesAndCallsOnlyRealCommands($"'{example.Title}'", example.Ast, example.Errors);
        }
    }

    [Fact]
    public void TheReadmesPowerShellBlocksParseAndCallOnlyRealCmdletsAndParameters()
    {
        var blocks = CodeBlocks(File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "README.md")));
        Assert.NotEmpty(blocks);
        for (var i = 0; i < blocks.Count; i++)
        {
            var ast = Parser.ParseInput(blocks[i], out _, out var errors);
            AssertParsesAndCallsOnlyRealCommands($"README.md powershell block {i + 1}", ast, errors);
        }
    }

    private static void AssertParsesAndCallsOnlyRealCommands(string where, Ast ast, ParseError[] errors)
    {
        var exported = CmdletMetadataTests.CmdletNames().ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Empty(errors.Select(e => $"{where} line {e.Extent.StartLineNumber}: {e.Message}"));
        foreach (var command in Commands(ast))
        {
            var name = command.GetCommandName();
            if (name is null || !LooksLikeThisModules(name))
            {
                continue;
            }

            Assert.True(exported.Contains(name), $"{where} calls {name}, which the module does not export.");
            var known = KnownParameterNames(CmdletType(name));
            foreach (var parameter in command.CommandElements.OfType<CommandParameterAst>())
            {
                Assert.True(
                    known.Contains(parameter.ParameterName),
                    $"{where} passes -{parameter.ParameterName} to {name}, which has no such parameter.");
            }
        }
    }

    [Fact]
    public void AboutTopicExistsAndMentionsEveryCmdlet()
    {
        var text = File.ReadAllText(Path.Combine(DocsFolder, "about_TenantBackup.md"));

        Assert.StartsWith("# about_TenantBackup", text, StringComparison.Ordinal);
        Assert.All(CmdletMetadataTests.CmdletNames(), name => Assert.Contains(name, text, StringComparison.Ordinal));
        foreach (var code in CodeBlocks(text.Split('\n')))
        {
            Parser.ParseInput(code, out _, out var errors);
            Assert.Empty(errors.Select(e => e.Message));
        }
    }

    [Fact]
    public void TheChecksSeeAMissingParameterAndAnUnknownOne()
    {
        // The example checks must be able to fail: a made-up parameter and a made-up command are caught.
        var known = KnownParameterNames(CmdletType("Restore-TenantBackup"));
        Assert.Contains("FullName", known);
        Assert.Contains("WhatIf", known);
        Assert.DoesNotContain("NoSuchParameter", known);
        Assert.DoesNotContain("WhatIf", KnownParameterNames(CmdletType("Get-TenantBackup")));
        Assert.True(LooksLikeThisModules("Export-TenantBackup"));
        Assert.False(LooksLikeThisModules("Get-ChildItem"));
    }

    private sealed record Example(string Title, string Prose, ScriptBlockAst Ast, ParseError[] Errors);

    private static string[] ReadDoc(string cmdlet)
    {
        var path = Path.Combine(DocsFolder, $"{cmdlet}.md");
        Assert.True(File.Exists(path), $"No help file {Path.GetRelativePath(TestPaths.RepoRoot, path)}.");
        return File.ReadAllText(path).ReplaceLineEndings("\n").Split('\n');
    }

    private static Type CmdletType(string name) => CmdletMetadataTests.CmdletAssembly.GetTypes()
        .Single(t => t.GetCustomAttribute<CmdletAttribute>() is { } a
            && string.Equals($"{a.VerbName}-{a.NounName}", name, StringComparison.OrdinalIgnoreCase));

    private static bool SupportsShouldProcess(Type type) => type.GetCustomAttribute<CmdletAttribute>()!.SupportsShouldProcess;

    /// <summary>The cmdlet's parameters (in every parameter set, base classes included) with their aliases.</summary>
    private static Dictionary<string, string[]> Parameters(Type type) => type
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetCustomAttributes<ParameterAttribute>(inherit: true).Any())
        .ToDictionary(
            p => p.Name,
            p => p.GetCustomAttribute<AliasAttribute>(inherit: true)?.AliasNames.ToArray() ?? [],
            StringComparer.OrdinalIgnoreCase);

    private static HashSet<string> KnownParameterNames(Type type)
    {
        var known = new HashSet<string>(Cmdlet.CommonParameters, StringComparer.OrdinalIgnoreCase);
        if (SupportsShouldProcess(type))
        {
            known.UnionWith(["WhatIf", "Confirm"]);
        }

        foreach (var (name, aliases) in Parameters(type))
        {
            known.Add(name);
            known.UnionWith(aliases);
        }

        return known;
    }

    // Verb-Noun commands with one of the module's nouns, or any noun about backups: a typo'd or invented command of
    // this module must not slip through as "some other module's command".
    private static bool LooksLikeThisModules(string name)
        => ModuleCommandName().IsMatch(name);

    [GeneratedRegex(@"^[A-Za-z]+-\w*Backup\w*$", RegexOptions.IgnoreCase)]
    private static partial Regex ModuleCommandName();

    private static bool Is(CommandAst command, string cmdlet)
        => string.Equals(command.GetCommandName(), cmdlet, StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<CommandAst> Commands(Ast ast)
        => ast.FindAll(a => a is CommandAst, searchNestedScriptBlocks: true).Cast<CommandAst>();

    private static bool Passes(CommandAst command, string parameter) => command.CommandElements.OfType<CommandParameterAst>()
        .Any(p => string.Equals(p.ParameterName, parameter, StringComparison.OrdinalIgnoreCase));

    private static bool ConfirmFalse(CommandAst command) => command.CommandElements.OfType<CommandParameterAst>()
        .Any(p => string.Equals(p.ParameterName, "Confirm", StringComparison.OrdinalIgnoreCase)
            && p.Argument is VariableExpressionAst { VariablePath.UserPath: var value }
            && string.Equals(value, "false", StringComparison.OrdinalIgnoreCase));

    private static List<Example> Examples(string cmdlet)
    {
        var section = Section(ReadDoc(cmdlet), "## EXAMPLES");
        var examples = new List<Example>();
        var starts = Enumerable.Range(0, section.Length)
            .Where(i => section[i].StartsWith("### Example ", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(section.Count(l => l.StartsWith("### ", StringComparison.Ordinal)), starts.Count);
        for (var n = 0; n < starts.Count; n++)
        {
            var end = n + 1 < starts.Count ? starts[n + 1] : section.Length;
            var body = section[(starts[n] + 1)..end];
            var title = section[starts[n]];
            Assert.True(body.FirstOrDefault(l => l.Length > 0) == "```powershell", $"'{title}' does not open with a powershell block.");
            var blocks = CodeBlocks(body);
            Assert.Single(blocks);
            var closing = Array.IndexOf(body, "```", Array.IndexOf(body, "```powershell") + 1);
            var prose = string.Join("\n", body[(closing + 1)..]).Trim();
            var ast = Parser.ParseInput(blocks[0], out _, out var errors);
            examples.Add(new Example(title, prose, ast, errors));
        }

        return examples;
    }

    /// <summary>The text of every <c>```powershell</c> block of a markdown file's lines (ReadmeTests reads them too).</summary>
    internal static List<string> CodeBlocks(IReadOnlyList<string> lines)
    {
        var blocks = new List<string>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].TrimEnd() != "```powershell")
            {
                continue;
            }

            var end = i + 1;
            while (end < lines.Count && lines[end].TrimEnd() != "```")
            {
                end++;
            }

            Assert.True(end < lines.Count, $"A powershell block opened on line {i + 1} is not closed.");
            blocks.Add(string.Join("\n", lines.Skip(i + 1).Take(end - i - 1)));
            i = end;
        }

        return blocks;
    }

    // The lines under a heading, up to the next heading of the same or a higher level.
    private static string[] Section(string[] lines, string heading)
    {
        var start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"No '{heading}' section.");
        var level = heading.IndexOf(' ', StringComparison.Ordinal);
        var end = start + 1;
        var inCode = false;
        for (; end < lines.Length; end++)
        {
            if (lines[end].StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }

            var hashes = lines[end].TakeWhile(c => c == '#').Count();
            if (!inCode && hashes > 0 && hashes <= level && lines[end].Length > hashes && lines[end][hashes] == ' ')
            {
                break;
            }
        }

        return lines[(start + 1)..end];
    }

    private static string SectionText(string[] lines, string heading) => string.Join("\n", Section(lines, heading)).Trim();
}
