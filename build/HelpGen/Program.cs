using System.Text;
using System.Xml;
using TenantBackup.HelpGen;

// Usage: HelpGen <docs folder> <output folder>
// Writes <output>/TenantBackup.PowerShell.dll-Help.xml from every <Verb>-<Noun>.md and <output>/about_*.help.txt from
// every about_*.md.
if (args.Length != 2)
{
    Console.Error.WriteLine("Usage: HelpGen <docs folder> <output folder>");
    return 2;
}

var docs = args[0];
var output = args[1];
try
{
    Directory.CreateDirectory(output);
    var files = Directory.GetFiles(docs, "*.md").Order(StringComparer.Ordinal).ToList();
    var commands = files
        .Where(f => !Path.GetFileName(f).StartsWith("about_", StringComparison.OrdinalIgnoreCase))
        .Select(f => CommandHelp.Parse(f, File.ReadAllText(f)))
        .ToList();
    var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, NewLineChars = "\n" };
    using (var writer = XmlWriter.Create(Path.Combine(output, "TenantBackup.PowerShell.dll-Help.xml"), settings))
    {
        MamlWriter.Write(commands).Save(writer);
    }

    foreach (var about in files.Where(f => Path.GetFileName(f).StartsWith("about_", StringComparison.OrdinalIgnoreCase)))
    {
        var target = Path.Combine(output, Path.GetFileNameWithoutExtension(about) + ".help.txt");
        File.WriteAllText(target, AboutText.Convert(File.ReadAllText(about)));
    }

    return 0;
}
catch (Exception e) when (e is FormatException or IOException or XmlException)
{
    // MSBuild's Exec shows this line as a build error.
    Console.Error.WriteLine($"error HELPGEN: {e.Message}");
    return 1;
}
