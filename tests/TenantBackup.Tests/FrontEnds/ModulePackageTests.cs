using System.IO.Compression;
using System.Xml.Linq;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The Package target's .nupkg, read as NuGet and PSResourceGet read one: an OPC zip with one nuspec at the root whose
/// id and version name the package, and (for a module) the module's own files at the root, not under lib/.
/// </summary>
[Collection(ModuleBuildCollection.Name)]
public sealed class ModulePackageTests(ModuleBuild build)
{
    private static readonly XNamespace[] NuspecNamespaces =
    [
        "http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd",
        "http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd",
        "http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd",
        "http://schemas.microsoft.com/packaging/2013/01/nuspec.xsd",
        "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd",
    ];

    private XElement Metadata()
    {
        using var zip = ZipFile.OpenRead(build.Package);
        var nuspecs = zip.Entries.Where(e => e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase)).ToList();
        var entry = Assert.Single(nuspecs);
        Assert.Equal("TenantBackup.nuspec", entry.FullName);
        using var stream = entry.Open();
        var package = XDocument.Load(stream).Root!;
        Assert.Equal("package", package.Name.LocalName);
        Assert.Contains(package.Name.Namespace, NuspecNamespaces);
        return package.Element(package.Name.Namespace + "metadata")!;
    }

    private static string Value(XElement metadata, string name) => metadata.Element(metadata.Name.Namespace + name)?.Value ?? string.Empty;

    [Fact]
    public void ThePackageIsAnOpcZipWithTheNuGetParts()
    {
        using var zip = ZipFile.OpenRead(build.Package);
        var names = zip.Entries.Select(e => e.FullName).ToList();

        Assert.Contains("[Content_Types].xml", names);
        Assert.Contains("_rels/.rels", names);
        Assert.All(names, name => Assert.DoesNotContain('\\', name));
        using var types = zip.GetEntry("[Content_Types].xml")!.Open();
        var extensions = XDocument.Load(types).Root!.Elements().Select(e => (string?)e.Attribute("Extension")).OfType<string>().ToList();
        Assert.Contains("nuspec", extensions);
        Assert.Contains("dll", extensions);
    }

    [Fact]
    public void EveryModuleFileIsAtThePackageRootAndNothingIsUnderLib()
    {
        using var zip = ZipFile.OpenRead(build.Package);
        var packaged = zip.Entries.Select(e => e.FullName)
            .Where(name => name != "[Content_Types].xml" && name != "TenantBackup.nuspec"
                && !name.StartsWith("_rels/", StringComparison.Ordinal) && !name.StartsWith("package/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.Equal(ModuleBuildTests.ExpectedFiles(), packaged);
        Assert.DoesNotContain(zip.Entries, e => e.FullName.StartsWith("lib/", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(zip.Entries, e => e.FullName.StartsWith("content/", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void ThePackagedFilesAreTheModuleFolders()
    {
        using var zip = ZipFile.OpenRead(build.Package);
        foreach (var file in ModuleBuildTests.ExpectedFiles())
        {
            using var stream = zip.GetEntry(file)!.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.True(copy.ToArray().AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(build.ModuleDirectory, file))), file);
        }
    }

    [Fact]
    public void TheNuspecCarriesTheManifestsMetadata()
    {
        var manifest = ModuleLayoutTests.Manifest();
        var psData = (Dictionary<string, object>)((Dictionary<string, object>)manifest["PrivateData"])["PSData"];
        var metadata = Metadata();

        Assert.Equal("TenantBackup", Value(metadata, "id"));
        Assert.Equal(ModuleLayoutTests.VersionPrefix(), Value(metadata, "version"));
        Assert.Equal(manifest["Author"], Value(metadata, "authors"));
        Assert.Equal(manifest["Description"], Value(metadata, "description"));
        Assert.Equal(psData["ProjectUri"], Value(metadata, "projectUrl"));
        Assert.Equal(psData["ReleaseNotes"], Value(metadata, "releaseNotes"));
        Assert.Equal($"TenantBackup.{Value(metadata, "version")}.nupkg", Path.GetFileName(build.Package));
    }

    [Fact]
    public void ThePackagedManifestHasThePackagesVersion()
    {
        using var zip = ZipFile.OpenRead(build.Package);
        using var reader = new StreamReader(zip.GetEntry("TenantBackup.psd1")!.Open());

        Assert.Equal(Value(Metadata(), "version"), Psd1Parser.Parse(reader.ReadToEnd())["ModuleVersion"]);
    }

    [Fact]
    public void ThePackageUnpackedAsPSResourceGetInstallsItImports()
    {
        // Install-PSResource extracts the package into <Modules>/<id>/<version>/ and drops the packaging parts.
        using var modules = new TempFolder();
        var version = Value(Metadata(), "version");
        var target = Path.Combine(modules.Path, "TenantBackup", version);
        ZipFile.ExtractToDirectory(build.Package, target);
        Directory.Delete(Path.Combine(target, "_rels"), recursive: true);
        Directory.Delete(Path.Combine(target, "package"), recursive: true);
        File.Delete(Path.Combine(target, "[Content_Types].xml"));

        using var ps = PowerShellSession.Create();
        ps.AddCommand("Import-Module").AddParameter("Name", Path.Combine(target, "TenantBackup.psd1")).AddParameter("PassThru");
        var module = (System.Management.Automation.PSModuleInfo)Assert.Single(ps.Invoke()).BaseObject;

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Equal(new Version(version), module.Version);
        Assert.Equal(CmdletMetadataTests.CmdletNames(), module.ExportedCmdlets.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheTagsAreThoseOfAPowerShellGalleryModule()
    {
        var manifest = ModuleLayoutTests.Manifest();
        var psData = (Dictionary<string, object>)((Dictionary<string, object>)manifest["PrivateData"])["PSData"];

        var tags = Value(Metadata(), "tags").Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("PSModule", tags);
        Assert.Contains("PSIncludes_Cmdlet", tags);
        Assert.Contains("PSEdition_Core", tags);
        Assert.All(CmdletMetadataTests.CmdletNames(), cmdlet => Assert.Contains("PSCmdlet_" + cmdlet, tags));
        Assert.All(((List<object>)psData["Tags"]).Cast<string>(), tag => Assert.Contains(tag, tags));
        Assert.Equal(tags.Length, tags.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
