using System.Management.Automation;
using System.Management.Automation.Language;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>The Module target's folder: exactly module/files.txt, a stamped manifest, and a module pwsh imports.</summary>
[Collection(ModuleBuildCollection.Name)]
public sealed class ModuleBuildTests(ModuleBuild build)
{
    private const string PublishPrefix = "publish/";

    /// <summary>Where each entry of module/files.txt lands in the module folder (publish/ entries keep their folders).</summary>
    internal static IReadOnlyList<string> ExpectedFiles() => ModuleLayoutTests.ModuleFiles()
        .Select(entry => entry.StartsWith(PublishPrefix, StringComparison.Ordinal)
            ? entry[PublishPrefix.Length..]
            : Path.GetFileName(entry))
        .Order(StringComparer.Ordinal)
        .ToList();

    internal static IReadOnlyList<string> FilesUnder(string folder) => Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
        .Order(StringComparer.Ordinal)
        .ToList();

    [Fact]
    public void TheFolderHoldsExactlyTheListedFiles()
    {
        Assert.Equal(ExpectedFiles(), FilesUnder(build.ModuleDirectory));
    }

    [Fact]
    public void TheCopiedFilesAreTheirSources()
    {
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "module", "TenantBackup.Format.ps1xml")),
            File.ReadAllBytes(Path.Combine(build.ModuleDirectory, "TenantBackup.Format.ps1xml")));
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(TestPaths.PowerShellBin, "TenantBackup.PowerShell.dll")),
            File.ReadAllBytes(Path.Combine(build.ModuleDirectory, "TenantBackup.PowerShell.dll")));
    }

    [Fact]
    public void TheManifestVersionIsTheVersionPrefix()
    {
        var manifest = Psd1Parser.Parse(File.ReadAllText(Path.Combine(build.ModuleDirectory, "TenantBackup.psd1")));

        Assert.Equal(ModuleLayoutTests.VersionPrefix(), manifest["ModuleVersion"]);
    }

    [Fact]
    public void EveryFileTheManifestNamesIsInTheFolder()
    {
        var manifest = Psd1Parser.Parse(File.ReadAllText(Path.Combine(build.ModuleDirectory, "TenantBackup.psd1")));

        var named = ManifestFiles(manifest).ToList();

        Assert.Contains("TenantBackup.PowerShell.dll", named);
        Assert.Contains("TenantBackup.Format.ps1xml", named);
        Assert.All(named, file => Assert.True(File.Exists(Path.Combine(build.ModuleDirectory, file)), $"{file} is named but not built."));
    }

    [Fact]
    public void TheBuiltModuleImportsAndExportsItsCmdlets()
    {
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Import-Module")
            .AddParameter("Name", Path.Combine(build.ModuleDirectory, "TenantBackup.psd1"))
            .AddParameter("PassThru");
        var module = (PSModuleInfo)Assert.Single(ps.Invoke()).BaseObject;

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Equal(new Version(ModuleLayoutTests.VersionPrefix()), module.Version);
        Assert.Equal(CmdletMetadataTests.CmdletNames(), module.ExportedCmdlets.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AMissingListedFileFailsTheTargetAndNamesIt()
    {
        using var scratch = new TempFolder();
        var list = Path.Combine(scratch.Path, "files.txt");
        var listed = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "module", "files.txt"));
        await File.WriteAllLinesAsync(list, [.. listed, "publish/Missing.dll", "module/missing.ps1xml"]);

        var result = await ModuleBuild.RunTargetAsync("Module", scratch.Path, $"ModuleFileList={list}");

        Assert.False(result.Succeeded, result.Describe());
        Assert.Contains("Module file 'publish/Missing.dll' is missing", result.Output, StringComparison.Ordinal);
        Assert.Contains("Module file 'module/missing.ps1xml' is missing", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(scratch.Path, "TenantBackup")));
    }

    [Theory]
    [InlineData("Invoke-Build", "Module")]
    [InlineData("Invoke-Package", "Package")]
    public void BuildPs1LeavesTheLayoutToTheTargets(string function, string target)
    {
        var ast = Parser.ParseFile(Path.Combine(TestPaths.RepoRoot, "Build.ps1"), out _, out var errors);
        Assert.Empty(errors);

        var body = ast.FindAll(node => node is FunctionDefinitionAst f && f.Name == function, searchNestedScriptBlocks: true)
            .Cast<FunctionDefinitionAst>().Single().Body;
        var commands = body.FindAll(node => node is CommandAst, searchNestedScriptBlocks: true).Cast<CommandAst>().ToList();

        Assert.Contains(commands, c => c.GetCommandName() == "Invoke-ModuleTarget" && c.CommandElements[1].Extent.Text == target);
        // The file list is the targets' business: Build.ps1 copies nothing itself.
        Assert.DoesNotContain(commands, c => c.GetCommandName() is "Copy-Item" or "Get-Content" or "Set-Content");
    }

    /// <summary>The module-relative files a manifest names: root module, formats, types, assemblies, nested modules, file list.</summary>
    internal static IEnumerable<string> ManifestFiles(Dictionary<string, object> manifest)
    {
        string[] keys =
            ["RootModule", "FormatsToProcess", "TypesToProcess", "RequiredAssemblies", "NestedModules", "ScriptsToProcess", "FileList"];
        foreach (var key in keys)
        {
            if (!manifest.TryGetValue(key, out var value))
            {
                continue;
            }

            // A nested or required module given by name rather than by file is not a file of this folder.
            foreach (var file in (value is List<object> many ? many.Cast<string>() : [(string)value]).Where(f => Path.HasExtension(f)))
            {
                yield return file.Replace('\\', '/');
            }
        }
    }
}
