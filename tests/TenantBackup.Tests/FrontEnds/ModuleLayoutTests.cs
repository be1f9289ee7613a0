using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using TenantBackup.Engine;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The module as the Module target lays it out (module/files.txt → out/TenantBackup/&lt;version&gt;/), built here quickly
/// from the cmdlet project's build output, and the manifest and format file checked against the assembly.
/// </summary>
public partial class ModuleLayoutTests
{
    private const string PublishPrefix = "publish/";

    internal static IReadOnlyList<string> ModuleFiles() => File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "module", "files.txt"))
        .Select(line => line.Trim())
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .ToList();

    internal static Dictionary<string, object> Manifest()
        => Psd1Parser.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "TenantBackup.psd1")));

    internal static string VersionPrefix() => XDocument.Load(Path.Combine(TestPaths.RepoRoot, "Directory.Build.props"))
        .Descendants("VersionPrefix").Single().Value.Trim();

    [Fact]
    public void TheFileListNamesEveryRuntimeAssemblyOfThePublishOutput()
    {
        // What `dotnet publish` of the cmdlet project copies: its deps.json's runtime assemblies, less the compile-time-only
        // PowerShell reference (pwsh brings its own System.Management.Automation).
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.PowerShellBin, "TenantBackup.PowerShell.deps.json")));
        var target = deps.RootElement.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        var published = deps.RootElement.GetProperty("targets").GetProperty(target).EnumerateObject()
            .Where(library => !library.Name.StartsWith("PowerShellStandard.Library/", StringComparison.Ordinal))
            .SelectMany(library => library.Value.TryGetProperty("runtime", out var runtime)
                ? runtime.EnumerateObject().Select(a => Path.GetFileName(a.Name))
                : [])
            // Only the cmdlet assembly sits next to the manifest; the engine and what it needs wait in dependencies/.
            .Select(file => file == "TenantBackup.PowerShell.dll" ? file : "dependencies/" + file)
            .Order(StringComparer.Ordinal);

        var listed = ModuleFiles()
            .Where(f => f.StartsWith(PublishPrefix, StringComparison.Ordinal) && f.EndsWith(".dll", StringComparison.Ordinal))
            .Select(f => f[PublishPrefix.Length..])
            .Order(StringComparer.Ordinal);

        Assert.Equal(published, listed);
    }

    [Fact]
    public void TheFileListPutsTheCompiledHelpInEnUs()
    {
        // Get-Help looks for a compiled cmdlet's help in <culture>/<dll name>-Help.xml next to the dll.
        var listed = ModuleFiles();

        Assert.Contains("publish/en-US/TenantBackup.PowerShell.dll-Help.xml", listed);
        Assert.Contains("publish/en-US/about_TenantBackup.help.txt", listed);
        Assert.All(
            listed.Where(f => f.StartsWith(PublishPrefix, StringComparison.Ordinal) && !f.EndsWith(".dll", StringComparison.Ordinal)),
            f => Assert.StartsWith(PublishPrefix + "en-US/", f, StringComparison.Ordinal));
    }

    [Fact]
    public void TheFileListsRepositoryFilesExist()
    {
        var repositoryFiles = ModuleFiles().Where(f => !f.StartsWith(PublishPrefix, StringComparison.Ordinal)).ToList();

        Assert.Contains("TenantBackup.psd1", repositoryFiles);
        Assert.Contains("module/TenantBackup.Format.ps1xml", repositoryFiles);
        Assert.All(repositoryFiles, f => Assert.True(File.Exists(Path.Combine(TestPaths.RepoRoot, f)), f));
    }

    [Fact]
    public void TheManifestHasTheRequiredShape()
    {
        var manifest = Manifest();

        Assert.Equal("TenantBackup.PowerShell.dll", manifest["RootModule"]);
        Assert.Equal(VersionPrefix(), manifest["ModuleVersion"]);
        Assert.True(Guid.TryParse((string)manifest["GUID"], out var guid) && guid != Guid.Empty);
        Assert.False(string.IsNullOrWhiteSpace((string)manifest["Author"]));
        Assert.False(string.IsNullOrWhiteSpace((string)manifest["Description"]));
        Assert.Equal(["Core"], (List<object>)manifest["CompatiblePSEditions"]);
        Assert.Equal("7.4", manifest["PowerShellVersion"]);
        Assert.Empty((List<object>)manifest["FunctionsToExport"]);
        Assert.Empty((List<object>)manifest["AliasesToExport"]);
        Assert.Empty((List<object>)manifest["VariablesToExport"]);
        Assert.Equal(["TenantBackup.Format.ps1xml"], (List<object>)manifest["FormatsToProcess"]);

        var psData = (Dictionary<string, object>)((Dictionary<string, object>)manifest["PrivateData"])["PSData"];
        Assert.NotEmpty((List<object>)psData["Tags"]);
        Assert.All((List<object>)psData["Tags"], tag => Assert.DoesNotContain(" ", (string)tag, StringComparison.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace((string)psData["ReleaseNotes"]));
        Assert.True(Uri.TryCreate((string)psData["ProjectUri"], UriKind.Absolute, out var project) && project.Scheme == Uri.UriSchemeHttps);
        Assert.Contains("PostgreSQL", ((List<object>)psData["Tags"]).Cast<string>());
        // A module of compiled cmdlets exports nothing by wildcard: every export list is explicit.
        Assert.All(
            new[] { "CmdletsToExport", "FunctionsToExport", "AliasesToExport", "VariablesToExport" },
            key => Assert.DoesNotContain("*", ((List<object>)manifest[key]).Cast<string>()));
    }

    [Fact]
    public void TheManifestExportsExactlyTheCmdletsOfTheAssembly()
    {
        var exported = ((List<object>)Manifest()["CmdletsToExport"]).Cast<string>().Order(StringComparer.Ordinal);

        Assert.Equal(CmdletMetadataTests.CmdletNames(), exported);
    }

    public static TheoryData<Type, string[]> TableViews() => new()
    {
        { typeof(BackupInfo), ["Tenant", "Id", "Kind", "CreatedAt", "Size", "RowCount", "Status"] },
        {
            typeof(RestoreResult),
            ["BackupId", "TargetTenant", "Mode", "Inserted", "Deleted", "Remapped", "Duration", "PreRestoreBackupId"]
        },
        { typeof(RestorePlan), ["BackupId", "TargetTenant", "Mode", "CanRestore", "Tables", "Collisions", "Differences"] },
        { typeof(RestoreTableResult), ["Table", "ArchiveRows", "Inserted", "Updated", "Deleted", "Remapped"] },
        { typeof(RestoreTablePlan), ["Table", "ArchiveRows", "Insert", "Update", "Delete", "Remap"] },
        { typeof(TenantBackup.Engine.Repository.IndexDiscrepancy), ["Kind", "Tenant", "Id", "File", "Applied", "Action"] },
        { typeof(Engine.Repository.PruneDecision), ["Tenant", "Id", "Kind", "CreatedAt", "Action", "Removed", "Reasons"] },
        { typeof(TenantBackup.Engine.Integrity.IntegrityResult), ["Status", "Tenant", "Id", "Failed", "VerifiedAt", "Path"] },
    };

    [Fact]
    public void EveryViewOfTheFormatFileIsTested()
    {
        var format = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "module", "TenantBackup.Format.ps1xml"));

        Assert.Equal(
            TableViews().Select(row => ((Type)row[0]).FullName!).Order(StringComparer.Ordinal),
            format.Descendants("View").Where(v => v.Element("TableControl") is not null)
                .Select(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TableViews))]
    public void TheFormatFileHasATableViewOverRealProperties(Type type, string[] expectedLabels)
    {
        var table = View(type).Element("TableControl")!;

        var labels = table.Descendants("TableColumnHeader").Select(h => h.Element("Label")!.Value).ToList();
        var items = table.Descendants("TableColumnItem").ToList();
        Assert.Equal(expectedLabels, labels);
        Assert.Equal(labels.Count, items.Count);

        var properties = type.GetProperties().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var property = item.Element("PropertyName")?.Value;
            var script = item.Element("ScriptBlock")?.Value;
            Assert.True(property is not null ^ script is not null);
            if (property is not null)
            {
                Assert.Contains(property, properties);
            }
            else
            {
                // Script blocks may only read properties the type has.
                Assert.All(PropertyReference().Matches(script!).Select(m => m.Groups[1].Value), p => Assert.Contains(p, properties));
                Assert.Empty(ParseErrors(script!));
            }
        }
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(5_000_000, "4.8 MB")]
    [InlineData(3L * 1024 * 1024 * 1024 * 1024, "3.0 TB")]
    public void TheSizeColumnIsForPeople(long size, string expected)
    {
        var backup = GetTenantBackupFilterTests.Backup(
            "0001", "42", BackupKinds.Full, new DateTimeOffset(2025, 6, 1, 12, 30, 0, TimeSpan.Zero));
        backup = new BackupInfo
        {
            Id = backup.Id, Tenant = backup.Tenant, TenantColumn = backup.TenantColumn, Kind = backup.Kind, CreatedAt = backup.CreatedAt,
            Database = backup.Database, TableCount = backup.TableCount, RowCount = backup.RowCount, Size = size, Status = backup.Status,
            Path = backup.Path, Repository = backup.Repository, Sha256 = backup.Sha256, Compression = backup.Compression,
        };

        var scripts = View(typeof(BackupInfo)).Descendants("ScriptBlock").Select(s => s.Value).ToList();

        Assert.Equal(expected, RunColumnScript(scripts[1], backup));
        Assert.Equal(
            backup.CreatedAt.LocalDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            RunColumnScript(scripts[0], backup));
    }

    [Theory]
    [InlineData(2.34, "00:00:02.3")]
    [InlineData(3725.5, "01:02:05.5")]
    [InlineData(93784, "26:03:04.0")]
    public void TheRestoreDurationColumnShowsHoursMinutesSecondsAndTenths(double seconds, string expected)
    {
        var result = new RestoreResult
        {
            Id = "r", BackupId = "b", Tenant = "42", TargetTenant = "42", Database = "PostgreSQL db1:5432/app",
            Mode = RestoreMode.Replace, StartedAt = DateTimeOffset.UnixEpoch, Duration = TimeSpan.FromSeconds(seconds), FilesRestored = 0,
            Path = "/a.tar.zst", Tables = [],
        };

        var script = View(typeof(RestoreResult)).Descendants("ScriptBlock").Single().Value;

        Assert.Equal(expected, RunColumnScript(script, result));
    }

    [Fact]
    public void ThePlanColumnsCountTablesCollisionsAndDifferences()
    {
        var plan = new RestorePlan
        {
            BackupId = "b", Tenant = "42", TargetTenant = "42", Database = "PostgreSQL db1:5432/app", Mode = RestoreMode.Replace,
            KeyCollision = KeyCollisionAction.Remap, PreRestoreBackup = true, Files = 0, Path = "/a.tar.zst", Problems = [], Cycles = [],
            Tables =
            [
                new RestoreTablePlan { Table = "public.a", ArchiveRows = 1, Insert = 1, Update = 0, Delete = 0, Remap = 0 },
                new RestoreTablePlan { Table = "public.b", ArchiveRows = 1, Insert = 1, Update = 0, Delete = 0, Remap = 0 },
            ],
            Collisions =
            [
                new KeyCollisionInfo
                {
                    Table = "public.a", Columns = ["id"], Surrogate = true, Count = 1, Examples = ["1"], Resolution = "remap",
                },
            ],
            SchemaDifferences = [],
        };

        var scripts = View(typeof(RestorePlan)).Descendants("ScriptBlock").Select(s => s.Value).ToList();

        Assert.Equal(["2", "1", "0"], scripts.Select(script => RunColumnScript(script, plan)));
    }

    private static XElement View(Type type) => XDocument.Load(Path.Combine(TestPaths.RepoRoot, "module", "TenantBackup.Format.ps1xml"))
        .Descendants("View")
        .Single(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == type.FullName && v.Element("TableControl") is not null);

    private static string RunColumnScript(string script, object value)
    {
        using var ps = System.Management.Automation.PowerShell.Create(InitialSessionState.CreateDefault2());
        ps.AddScript("param($InputObject) $InputObject | ForEach-Object { " + script + " }").AddArgument(value);
        var result = ps.Invoke();
        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        return Assert.Single(result).ToString();
    }

    [Fact]
    public void TheFormatFileLoadsIntoAFormatTable()
    {
        // PowerShell's own loader: schema, view definitions and script blocks.
        _ = new FormatTable([Path.Combine(TestPaths.RepoRoot, "module", "TenantBackup.Format.ps1xml")]);
    }

    [Fact]
    public void TheLaidOutModuleImportsAndExportsItsCmdlets()
    {
        using var outRoot = new TempFolder();
        var moduleDir = LayOutModule(outRoot.Path);

        using var ps = PowerShellSession.Create();
        ps.AddCommand("Import-Module").AddParameter("Name", Path.Combine(moduleDir, "TenantBackup.psd1")).AddParameter("PassThru");
        var module = (PSModuleInfo)Assert.Single(ps.Invoke()).BaseObject;

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Equal(new Version(VersionPrefix()), module.Version);
        Assert.Equal(CmdletMetadataTests.CmdletNames(), module.ExportedCmdlets.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(module.ExportedFunctions);
        Assert.Empty(module.ExportedAliases);
        Assert.True(File.Exists(Path.Combine(moduleDir, "en-US", "TenantBackup.PowerShell.dll-Help.xml")));
        Assert.True(File.Exists(Path.Combine(moduleDir, "en-US", "about_TenantBackup.help.txt")));
    }

    [Fact]
    public void LayingOutFailsOnAMissingFile()
    {
        using var outRoot = new TempFolder();

        Assert.Throws<FileNotFoundException>(() => LayOutModule(outRoot.Path, [.. ModuleFiles(), "publish/Missing.dll"]));
    }

    /// <summary>
    /// What the Module target (build/Module.targets) does, with the cmdlet project's build output standing in for the publish
    /// folder.
    /// </summary>
    internal static string LayOutModule(string outRoot, IReadOnlyList<string>? files = null)
    {
        var version = VersionPrefix();
        var moduleDir = Path.Combine(outRoot, "TenantBackup", version);
        Directory.CreateDirectory(moduleDir);
        foreach (var entry in files ?? ModuleFiles())
        {
            var source = entry.StartsWith(PublishPrefix, StringComparison.Ordinal)
                ? Path.Combine(TestPaths.PowerShellBin, entry[PublishPrefix.Length..])
                : Path.Combine(TestPaths.RepoRoot, entry);
            if (!File.Exists(source))
            {
                throw new FileNotFoundException($"Module file '{entry}' is missing.", source);
            }

            // publish/ entries keep their folder (en-US/, dependencies/); repository files go flat, as the Module target does.
            var target = entry.StartsWith(PublishPrefix, StringComparison.Ordinal)
                ? Path.Combine(moduleDir, entry[PublishPrefix.Length..])
                : Path.Combine(moduleDir, Path.GetFileName(source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }

        var manifest = Path.Combine(moduleDir, "TenantBackup.psd1");
        var text = File.ReadAllText(manifest);
        Assert.Single(ModuleVersionLine().Matches(text));
        File.WriteAllText(manifest, ModuleVersionLine().Replace(text, $"${{1}}'{version}'"));
        return moduleDir;
    }

    private static IEnumerable<System.Management.Automation.Language.ParseError> ParseErrors(string script)
    {
        System.Management.Automation.Language.Parser.ParseInput(script, out _, out var errors);
        return errors;
    }

    // The same pattern the Module target (build/Module.targets) uses to stamp the version.
    [GeneratedRegex(@"(?m)^(\s*ModuleVersion\s*=\s*)'[^']*'")]
    private static partial Regex ModuleVersionLine();

    [GeneratedRegex(@"\$_\.(\w+)")]
    private static partial Regex PropertyReference();
}
