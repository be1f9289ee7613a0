using System.Management.Automation.Runspaces;
using System.Xml.Linq;
using TenantBackup.Engine;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Integrity;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The list views of module/TenantBackup.Format.ps1xml (what Format-List shows): each names real properties, and each
/// script runs under strict mode (so a misspelt property fails) and prints the parts a table hides, one line each.
/// </summary>
public class FormatListViewTests
{
    private static readonly string NewLine = Environment.NewLine;

    public static TheoryData<Type, string[]> ListViews() => new()
    {
        {
            typeof(RestoreResult),
            [
                "Id", "BackupId", "Tenant", "Database", "Mode", "StartedAt", "Duration", "Rows", "FilesRestored", "PreRestoreBackupId",
                "RootValues", "Path", "Tables",
            ]
        },
        {
            typeof(RestorePlan),
            [
                "BackupId", "Tenant", "Database", "Mode", "KeyCollision", "RootValues", "PreRestoreBackup", "CanRestore", "Problems",
                "Tables",
                "Collisions", "SchemaDifferences", "Cycles", "Files", "Path",
            ]
        },
        {
            typeof(IntegrityResult),
            ["Status", "Passed", "Tenant", "Id", "VerifiedAt", "Indexed", "Path", "Problems", "Checks", "RestoreTest"]
        },
    };

    [Fact]
    public void EveryListViewOfTheFormatFileIsTested()
    {
        var listed = Format().Descendants("View").Where(v => v.Element("ListControl") is not null)
            .Select(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value)
            .Order(StringComparer.Ordinal);

        Assert.Equal(ListViews().Select(row => ((Type)row[0]).FullName!).Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public void TheTableViewComesFirstSoItStaysTheDefault()
    {
        foreach (var type in ListViews().Select(row => (Type)row[0]))
        {
            var views = Views(type).ToList();
            Assert.NotNull(views[0].Element("TableControl"));
            Assert.NotNull(views[1].Element("ListControl"));
        }
    }

    [Theory]
    [MemberData(nameof(ListViews))]
    public void TheListViewNamesRealPropertiesAndItsScriptsRunUnderStrictMode(Type type, string[] expectedLabels)
    {
        var items = ListItems(type);
        var sample = Sample(type);

        Assert.Equal(expectedLabels, items.Select(i => i.Label));
        var properties = type.GetProperties().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (label, property, script) in items)
        {
            Assert.True(property is not null ^ script is not null, label);
            if (property is not null)
            {
                Assert.Contains(property, properties);
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(Run(script!, sample)), label);
            }
        }
    }

    [Fact]
    public void TheRestoreResultListShowsTheRemapTheTotalsAndEveryTable()
    {
        var items = ListItems(typeof(RestoreResult)).ToDictionary(i => i.Label, i => i.Script);
        var result = (RestoreResult)Sample(typeof(RestoreResult));

        Assert.Equal("42 -> 4242", Run(items["Tenant"]!, result));
        Assert.Equal("13 inserted, 0 updated, 3 deleted, 2 remapped", Run(items["Rows"]!, result));
        Assert.Equal("(none: no safety backup, no undo)", Run(items["PreRestoreBackupId"]!, result));
        Assert.Equal("note = NULL, slug = 'o''brien-staging'", Run(items["RootValues"]!, result));
        Assert.Equal("00:01:05.5", Run(items["Duration"]!, result));
        Assert.Equal(
            "public.tenants        1 of 1 inserted, 0 updated, 0 deleted, 0 remapped" + NewLine +
            "public.invoice_lines  12 of 12 inserted, 0 updated, 3 deleted, 2 remapped",
            Run(items["Tables"]!, result));
    }

    [Fact]
    public void TheRestorePlanListShowsProblemsCollisionsDifferencesAndCycles()
    {
        var items = ListItems(typeof(RestorePlan)).ToDictionary(i => i.Label, i => i.Script);
        var plan = (RestorePlan)Sample(typeof(RestorePlan));

        Assert.Equal("42", Run(items["Tenant"]!, plan));
        Assert.Equal("slug = 'acme-staging'", Run(items["RootValues"]!, plan));
        Assert.Equal("public.invoices.due: the target has no such column", Run(items["Problems"]!, plan));
        Assert.Equal("public.projects (id): 2 key(s) taken, remap; e.g. 7, 9", Run(items["Collisions"]!, plan));
        Assert.Equal(
            "[blocking] public.invoices.due (missing-column): the target has no such column" + NewLine +
            "[note] public.notes (extra-table): the target has a table the backup does not",
            Run(items["SchemaDifferences"]!, plan));
        Assert.Equal("public.store / public.staff: broken at store_manager_fk by deferred", Run(items["Cycles"]!, plan));
        Assert.Equal("2 into /srv/files/42", Run(items["Files"]!, plan));
        Assert.Equal(
            "public.tenants   1 rows: insert 1, update 0, delete 0, remap 0" + NewLine +
            "public.projects  5 rows: insert 3, update 2, delete 0, remap 2",
            Run(items["Tables"]!, plan));
    }

    [Fact]
    public void TheRestorePlanListSaysNoneWhenThereIsNothingToShow()
    {
        var items = ListItems(typeof(RestorePlan)).ToDictionary(i => i.Label, i => i.Script);
        var full = (RestorePlan)Sample(typeof(RestorePlan));
        var plan = new RestorePlan
        {
            BackupId = full.BackupId, Tenant = "42", TargetTenant = "42", Database = full.Database, Mode = RestoreMode.Replace,
            KeyCollision = KeyCollisionAction.Remap, PreRestoreBackup = true, Files = 0, Path = full.Path, Problems = [], Cycles = [],
            Tables = full.Tables, Collisions = [], SchemaDifferences = [],
        };

        Assert.All(
            new[] { "Problems", "Collisions", "SchemaDifferences", "Cycles" }, label => Assert.Equal("(none)", Run(items[label]!, plan)));
        Assert.Equal("0", Run(items["Files"]!, plan));
    }

    [Fact]
    public void TheIntegrityResultListShowsEveryCheckAndTheProblems()
    {
        var items = ListItems(typeof(IntegrityResult)).ToDictionary(i => i.Label, i => i.Script);
        var result = (IntegrityResult)Sample(typeof(IntegrityResult));

        Assert.Equal("sha256-file: the file's SHA-256 differs from its .sha256", Run(items["Problems"]!, result));
        Assert.Equal(
            "Passed  file         found" + NewLine +
            "Failed  sha256-file  the file's SHA-256 differs from its .sha256" + NewLine +
            "Skipped manifest     not read",
            Run(items["Checks"]!, result));
        Assert.Equal("(not run)", Run(items["RestoreTest"]!, result));

        var tested = new IntegrityResult
        {
            Status = IntegrityStatus.Valid,
            Checks = [],
            VerifiedAt = result.VerifiedAt,
            RestoreTest = (RestoreResult)Sample(typeof(RestoreResult)),
        };
        Assert.Equal("13 rows into 2 tables of PostgreSQL db1:5432/app, rolled back", Run(items["RestoreTest"]!, tested));
        Assert.Equal("(none)", Run(items["Problems"]!, tested));
    }

    private static XDocument Format() => XDocument.Load(Path.Combine(TestPaths.RepoRoot, "module", "TenantBackup.Format.ps1xml"));

    private static IEnumerable<XElement> Views(Type type) => Format().Descendants("View")
        .Where(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == type.FullName);

    private static List<(string Label, string? Property, string? Script)> ListItems(Type type) =>
        Views(type).Single(v => v.Element("ListControl") is not null)
            .Descendants("ListItem")
            .Select(i => (i.Element("Label")!.Value, i.Element("PropertyName")?.Value, i.Element("ScriptBlock")?.Value))
            .ToList();

    /// <summary>Runs a view's script as Format-List would, with $_ the object, under strict mode.</summary>
    private static string Run(string script, object value)
    {
        using var ps = System.Management.Automation.PowerShell.Create(InitialSessionState.CreateDefault2());
        ps.AddScript("param($InputObject) Set-StrictMode -Version Latest; $InputObject | ForEach-Object { " + script + " }")
            .AddArgument(value);
        var result = ps.Invoke();
        Assert.False(ps.HadErrors, string.Join(NewLine, ps.Streams.Error));
        return Assert.Single(result).ToString();
    }

    private static object Sample(Type type)
    {
        if (type == typeof(RestoreResult))
        {
            return new RestoreResult
            {
                Id = "r1", BackupId = "b1", Tenant = "42", TargetTenant = "4242", Database = "PostgreSQL db1:5432/app",
                Mode = RestoreMode.Replace, StartedAt = new DateTimeOffset(2026, 11, 1, 2, 0, 0, TimeSpan.Zero),
                Duration = TimeSpan.FromSeconds(65.5), FilesRestored = 0,
                RootValues = new Dictionary<string, string?> { ["slug"] = "o'brien-staging", ["note"] = null },
                Path = "/backups/a.tar.zst",
                Tables =
                [
                    new RestoreTableResult
                    {
                        Table = "public.tenants", ArchiveRows = 1, Inserted = 1, Updated = 0, Deleted = 0, Remapped = 0,
                    },
                    new RestoreTableResult
                    {
                        Table = "public.invoice_lines", ArchiveRows = 12, Inserted = 12, Updated = 0, Deleted = 3, Remapped = 2,
                    },
                ],
            };
        }

        if (type == typeof(RestorePlan))
        {
            return new RestorePlan
            {
                BackupId = "b1", Tenant = "42", TargetTenant = "42", Database = "PostgreSQL db1:5432/app", Mode = RestoreMode.Merge,
                KeyCollision = KeyCollisionAction.Remap, PreRestoreBackup = true, Files = 2, FilesDestinations = ["/srv/files/42"],
                RootValues = new Dictionary<string, string?> { ["slug"] = "acme-staging" },
                Path = "/backups/a.tar.zst",
                Problems = ["public.invoices.due: the target has no such column"],
                Tables =
                [
                    new RestoreTablePlan { Table = "public.tenants", ArchiveRows = 1, Insert = 1, Update = 0, Delete = 0, Remap = 0 },
                    new RestoreTablePlan { Table = "public.projects", ArchiveRows = 5, Insert = 3, Update = 2, Delete = 0, Remap = 2 },
                ],
                Collisions =
                [
                    new KeyCollisionInfo
                    {
                        Table = "public.projects", Columns = ["id"], Surrogate = true, Count = 2, Examples = ["7", "9"],
                        Resolution = "remap",
                    },
                ],
                SchemaDifferences =
                [
                    new SchemaDifference
                    {
                        Table = "public.invoices", Column = "due", Kind = "missing-column", Blocking = true,
                        Message = "the target has no such column",
                    },
                    new SchemaDifference
                    {
                        Table = "public.notes", Kind = "extra-table", Blocking = false,
                        Message = "the target has a table the backup does not",
                    },
                ],
                Cycles =
                [
                    new ScopeCycle(
                        ["public.store", "public.staff"],
                        [
                            new CycleEdge(
                                "store_manager_fk", "public.store", "public.staff", Deferrable: true, Nullable: true, BreakBy: "deferred"),
                            new CycleEdge(
                                "staff_store_fk", "public.staff", "public.store", Deferrable: false, Nullable: false, BreakBy: null),
                        ],
                        Breakable: true),
                ],
            };
        }

        return new IntegrityResult
        {
            Id = "b1", Tenant = "42", Path = "/backups/a.tar.zst", Status = IntegrityStatus.Corrupt, Indexed = true,
            VerifiedAt = new DateTimeOffset(2026, 11, 1, 2, 0, 0, TimeSpan.Zero),
            Checks =
            [
                new IntegrityCheck { Name = IntegrityChecks.File, Outcome = CheckOutcome.Passed, Message = "found" },
                new IntegrityCheck
                {
                    Name = IntegrityChecks.Sha256File,
                    Outcome = CheckOutcome.Failed,
                    Message = "the file's SHA-256 differs from its .sha256",
                },
                new IntegrityCheck { Name = IntegrityChecks.Manifest, Outcome = CheckOutcome.Skipped, Message = "not read" },
            ],
        };
    }
}
