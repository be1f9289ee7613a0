using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The compiled help that the cmdlet project's build writes next to its dll (en-US/, from module/docs by build/HelpGen):
/// MAML that Get-Help reads, checked against the cmdlet assembly and against the markdown it came from.
/// </summary>
public class HelpXmlTests
{
    private static readonly XNamespace _msh = "http://msh";
    private static readonly XNamespace _maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace _command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace _dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static string HelpFolder => Path.Combine(TestPaths.PowerShellBin, "en-US");

    public static TheoryData<string> CmdletNames() => ScriptTests.CmdletNames();

    [Fact]
    public void TheHelpFileIsMamlWithOneCommandPerCmdlet()
    {
        var help = Help();

        Assert.Equal(_msh + "helpItems", help.Root!.Name);
        Assert.Equal("maml", help.Root.Attribute("schema")?.Value);
        Assert.Equal(
            CmdletMetadataTests.CmdletNames(),
            help.Root.Elements(_command + "command").Select(c => Name(c)).Order(StringComparer.Ordinal));
        Assert.All(help.Root.Elements(_command + "command"), c =>
        {
            var details = c.Element(_command + "details")!;
            Assert.Equal(Name(c), $"{details.Element(_command + "verb")!.Value}-{details.Element(_command + "noun")!.Value}");
            Assert.False(string.IsNullOrWhiteSpace(details.Element(_maml + "description")?.Value), $"{Name(c)} has no synopsis.");
            Assert.False(string.IsNullOrWhiteSpace(c.Element(_maml + "description")?.Value), $"{Name(c)} has no description.");
        });
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryParameterOfTheCmdletIsInTheHelp(string cmdlet)
    {
        var type = CmdletType(cmdlet);
        var parameters = Command(cmdlet).Element(_command + "parameters")!.Elements(_command + "parameter").ToList();

        Assert.Equal(
            ParameterSets(type).SelectMany(s => s).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal),
            parameters.Select(ParameterName).Order(StringComparer.Ordinal));
        foreach (var parameter in parameters)
        {
            Assert.False(
                string.IsNullOrWhiteSpace(parameter.Element(_maml + "description")?.Value),
                $"-{ParameterName(parameter)} has no description.");
            Assert.False(string.IsNullOrWhiteSpace(parameter.Element(_dev + "type")?.Element(_maml + "name")?.Value));
            Assert.NotNull(parameter.Attribute("pipelineInput"));
            Assert.NotNull(parameter.Attribute("aliases"));
        }

        // Required and position as the cmdlet declares them, for parameters that are the same in every set.
        foreach (var property in Properties(type))
        {
            var attributes = property.GetCustomAttributes<ParameterAttribute>(inherit: true).ToList();
            var parameter = parameters.Single(p => ParameterName(p) == property.Name);
            if (attributes.Select(a => a.Mandatory).Distinct().Count() == 1)
            {
                Assert.Equal(attributes[0].Mandatory ? "true" : "false", parameter.Attribute("required")!.Value);
            }

            if (attributes.Select(a => a.Position).Distinct().Count() == 1)
            {
                var position = attributes[0].Position == int.MinValue
                    ? "named"
                    : attributes[0].Position.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(position, parameter.Attribute("position")!.Value);
            }
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void TheSyntaxHasOneItemPerParameterSetWithItsParameters(string cmdlet)
    {
        var items = Command(cmdlet).Element(_command + "syntax")!.Elements(_command + "syntaxItem").ToList();

        Assert.All(items, i => Assert.Equal(cmdlet, i.Element(_maml + "name")!.Value));
        Assert.Equal(
            ParameterSets(CmdletType(cmdlet)).Select(Key).Order(StringComparer.Ordinal),
            items.Select(i => Key(i.Elements(_command + "parameter").Select(ParameterName))).Order(StringComparer.Ordinal));

        static string Key(IEnumerable<string> names) => string.Join(",", names.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void TheExamplesAreTheMarkdownsCode(string cmdlet)
    {
        var examples = Command(cmdlet).Element(_command + "examples")!.Elements(_command + "example").ToList();

        Assert.True(examples.Count >= 3, $"{cmdlet} has {examples.Count} examples in its compiled help.");
        Assert.Equal(MarkdownExampleCode(cmdlet), examples.Select(e => e.Element(_dev + "code")!.Value));
        Assert.All(examples, e => Assert.Contains("Example ", e.Element(_maml + "title")!.Value, StringComparison.Ordinal));
        Assert.All(examples, e => Assert.False(string.IsNullOrWhiteSpace(e.Element(_dev + "remarks")?.Value)));
    }

    [Fact]
    public void TheAboutTopicIsPlainText()
    {
        var path = Path.Combine(HelpFolder, "about_TenantBackup.help.txt");

        Assert.True(File.Exists(path), $"No {path}.");
        var text = File.ReadAllText(path);
        Assert.StartsWith("TOPIC\n    about_TenantBackup\n", text, StringComparison.Ordinal);
        Assert.Contains("SHORT DESCRIPTION", text, StringComparison.Ordinal);
        Assert.DoesNotContain("```", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n#", text, StringComparison.Ordinal);
    }

    [Fact]
    public void GetHelpReadsTheCompiledHelpOfTheLaidOutModule()
    {
        using var outRoot = new TempFolder();
        var moduleDir = ModuleLayoutTests.LayOutModule(outRoot.Path);

        using var ps = PowerShellSession.Create();
        ps.AddCommand("Import-Module").AddParameter("Name", Path.Combine(moduleDir, "TenantBackup.psd1")).Invoke();
        ps.Commands.Clear();
        ps.AddCommand("Get-Help").AddParameter("Name", "Restore-TenantBackup").AddParameter("Full");
        var help = Assert.Single(ps.Invoke());

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        var synopsis = help.Properties["Synopsis"].Value?.ToString();
        Assert.StartsWith("Restores a tenant from a backup", synopsis, StringComparison.Ordinal);
        var examples = (PSObject)help.Properties["examples"].Value;
        Assert.True(((object[])examples.Properties["example"].Value).Length >= 3);
    }

    private static XDocument Help()
    {
        var path = Path.Combine(HelpFolder, "TenantBackup.PowerShell.dll-Help.xml");
        Assert.True(File.Exists(path), $"No {path}: the build of src/TenantBackup.PowerShell writes it.");
        return XDocument.Load(path);
    }

    private static XElement Command(string cmdlet) => Help().Root!.Elements(_command + "command").Single(c => Name(c) == cmdlet);

    private static string Name(XElement command) => command.Element(_command + "details")!.Element(_command + "name")!.Value;

    private static string ParameterName(XElement parameter) => parameter.Element(_maml + "name")!.Value;

    private static Type CmdletType(string name) => CmdletMetadataTests.CmdletAssembly.GetTypes()
        .Single(t => t.GetCustomAttribute<CmdletAttribute>() is { } a && $"{a.VerbName}-{a.NounName}" == name);

    private static List<PropertyInfo> Properties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetCustomAttributes<ParameterAttribute>(inherit: true).Any())
        .ToList();

    /// <summary>The parameter names of each parameter set (one set when none is named), with WhatIf and Confirm.</summary>
    private static List<List<string>> ParameterSets(Type type)
    {
        var properties = Properties(type);
        var names = properties.SelectMany(p => p.GetCustomAttributes<ParameterAttribute>(inherit: true))
            .Select(a => a.ParameterSetName)
            .Where(n => n != ParameterAttribute.AllParameterSets)
            .Distinct(StringComparer.Ordinal)
            .DefaultIfEmpty(ParameterAttribute.AllParameterSets);
        string[] shouldProcess = type.GetCustomAttribute<CmdletAttribute>()!.SupportsShouldProcess ? ["WhatIf", "Confirm"] : [];

        return names.Select(set => properties
                .Where(p => p.GetCustomAttributes<ParameterAttribute>(inherit: true)
                    .Any(a => a.ParameterSetName == set || a.ParameterSetName == ParameterAttribute.AllParameterSets))
                .Select(p => p.Name)
                .Concat(shouldProcess)
                .ToList())
            .ToList();
    }

    private static List<string> MarkdownExampleCode(string cmdlet)
    {
        var lines = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "module", "docs", $"{cmdlet}.md"))
            .ReplaceLineEndings("\n")
            .Split('\n');
        var start = Array.IndexOf(lines, "## EXAMPLES");
        var end = Array.IndexOf(lines, "## PARAMETERS");
        var code = new List<string>();
        for (var i = start; i < end; i++)
        {
            if (lines[i] == "```powershell")
            {
                var close = Array.IndexOf(lines, "```", i + 1);
                code.Add(string.Join("\n", lines[(i + 1)..close]));
                i = close;
            }
        }

        return code;
    }
}
