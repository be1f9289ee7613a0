using System.Xml.Linq;

namespace TenantBackup.HelpGen;

/// <summary>Writes MAML in the shape platyPS's New-ExternalHelp gives it, which Get-Help reads for compiled cmdlets.</summary>
internal static class MamlWriter
{
    private static readonly XNamespace _msh = "http://msh";
    private static readonly XNamespace _maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace _command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace _dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    private static readonly XNamespace _msHelp = "http://msdn.microsoft.com/mshelp";

    public static XDocument Write(IEnumerable<CommandHelp> commands) => new(
        new XDeclaration("1.0", "utf-8", null),
        new XElement(
            _msh + "helpItems",
            new XAttribute("schema", "maml"),
            commands.Select(Command)));

    private static XElement Command(CommandHelp help) => new(
        _command + "command",
        new XAttribute(XNamespace.Xmlns + "maml", _maml),
        new XAttribute(XNamespace.Xmlns + "command", _command),
        new XAttribute(XNamespace.Xmlns + "dev", _dev),
        new XAttribute(XNamespace.Xmlns + "MSHelp", _msHelp),
        new XElement(
            _command + "details",
            new XElement(_command + "name", help.Name),
            new XElement(_command + "verb", help.Verb),
            new XElement(_command + "noun", help.Noun),
            Description(help.Synopsis)),
        Description(help.Description),
        new XElement(_command + "syntax", SyntaxItems(help)),
        new XElement(_command + "parameters", help.Parameters.Select(p => Parameter(p, p.Required))),
        new XElement(
            _command + "inputTypes",
            help.Inputs.Select(t => new XElement(_command + "inputType", Type(t.Name), Description(t.Description)))),
        new XElement(
            _command + "returnValues",
            help.Outputs.Select(t => new XElement(_command + "returnValue", Type(t.Name), Description(t.Description)))),
        new XElement(
            _maml + "alertSet",
            new XElement(_maml + "alert", help.Notes.Select(Para))),
        new XElement(
            _command + "examples",
            help.Examples.Select(e => new XElement(
                _command + "example",
                new XElement(_maml + "title", $"-------------------------- {e.Title} --------------------------"),
                new XElement(_dev + "code", e.Code),
                new XElement(_dev + "remarks", e.Remarks.Select(Para))))),
        new XElement(
            _command + "relatedLinks",
            help.Links.Select(l => new XElement(
                _maml + "navigationLink",
                new XElement(_maml + "linkText", l.Text),
                new XElement(_maml + "uri", l.Uri)))));

    // One syntax item per parameter set, with the parameters of that set and of every set; a cmdlet without named sets
    // has one item with all of them.
    private static IEnumerable<XElement> SyntaxItems(CommandHelp help)
    {
        var named = help.Sets.Select(s => s.Name)
            .Concat(help.Parameters.Where(p => !p.AllSets).SelectMany(p => p.Sets))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (named.Count == 0)
        {
            named.Add("(All)");
        }

        return named.Select(set => new XElement(
            _command + "syntaxItem",
            new XElement(_maml + "name", help.Name),
            help.Parameters
                .Where(p => p.AllSets || p.Sets.Contains(set, StringComparer.Ordinal))
                .Select(p => Parameter(p, p.Required, inSyntax: true))));
    }

    private static XElement Parameter(ParameterHelp p, bool required, bool inSyntax = false) => new(
        _command + "parameter",
        new XAttribute("required", Bool(required)),
        new XAttribute("variableLength", "true"),
        new XAttribute("globbing", Bool(p.Globbing)),
        new XAttribute("pipelineInput", p.PipelineInput),
        new XAttribute("position", p.Position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : p.Position),
        new XAttribute("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)),
        new XElement(_maml + "name", p.Name),
        Description(p.Description),
        // Switches have no value to show in the syntax line.
        inSyntax && p.IsSwitch
            ? null
            : new XElement(
                _command + "parameterValue",
                new XAttribute("required", Bool(!p.IsSwitch)),
                new XAttribute("variableLength", "false"),
                p.Type),
        Type(p.Type),
        new XElement(_dev + "defaultValue", p.DefaultValue));

    private static XElement Type(string name) => new(
        _dev + "type",
        new XElement(_maml + "name", name),
        new XElement(_maml + "uri"));

    private static XElement Description(IEnumerable<string> paragraphs) => new(_maml + "description", paragraphs.Select(Para));

    private static XElement Para(string text) => new(_maml + "para", text);

    private static string Bool(bool value) => value ? "true" : "false";
}
