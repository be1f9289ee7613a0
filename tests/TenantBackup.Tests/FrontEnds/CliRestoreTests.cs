using System.Text.Json;
using TenantBackup.Cli;
using TenantBackup.Cli.Commands;
using TenantBackup.Cli.Output;
using TenantBackup.Engine;
using TenantBackup.Engine.Catalog;
using Xunit;
using static TenantBackup.Tests.FrontEnds.NewTenantBackupRequestTests;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// tenantbackup restore: the real parser, the ID|PATH rule, request building, the confirmation rules and the output.
/// Nothing here needs the restore itself to succeed: where the engine runs, the tests only look at what happened before it.
/// </summary>
public class CliRestoreTests
{
    // Refused at once: whatever the engine tries first, it fails fast.
    private const string Unreachable = "Host=127.0.0.1;Port=1;Database=app;Password=S3cr3t";

    private static readonly ConsoleInput NoTerminal = new(new StringReader(string.Empty), IsTerminal: false);

    private static RestoreRequest Request(params string[] args)
    {
        var parseResult = Program.Parse(args);
        Assert.Empty(parseResult.Errors);
        return RestoreCommand.BuildRequest(parseResult);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ConsoleInput stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Program.RunAsync(args, stdout, stderr, CancellationToken.None, stdin);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static ConsoleInput Terminal(string typed) => new(new StringReader(typed), IsTerminal: true);

    [Fact]
    public void EveryRestoreOptionReachesTheRequest()
    {
        var request = Request(
            "restore", "/var/backups/tenants/tenant-42-20250101T120000Z-0192f0c1.tar.zst",
            "--connection", "Host=db1;Port=6543;Database=app;Username=restore;Password=S3cr3t",
            "--repository", "/var/backups/tenants",
            "--target-tenant", "4242",
            "--root-value", "slug=acme-staging", "--root-value", "name=", "--root-value", "note=a=b",
            "--mode", "merge",
            "--key-collision", "fail",
            "--no-pre-backup",
            "--disable-triggers",
            "--include-table", "invoice*",
            "--exclude-table", "audit_log", "--exclude-table", "billing.tmp_*",
            "--files-path", "/srv/uploads/4242",
            "--skip-files",
            "--lock-timeout", "90",
            "--dry-run",
            "--json",
            "--yes",
            "--verbose");

        var parts = ParseConnectionString(request.ConnectionString);
        Assert.Equal(
            ("db1", "6543", "app", "restore", "S3cr3t"),
            (parts["Host"], parts["Port"], parts["Database"], parts["Username"], parts["Password"]));
        Assert.Equal(Path.GetFullPath("/var/backups/tenants/tenant-42-20250101T120000Z-0192f0c1.tar.zst"), request.ArchivePath);
        Assert.Null(request.BackupId);
        Assert.Equal(Path.GetFullPath("/var/backups/tenants"), request.Repository);
        Assert.Equal("4242", request.TargetTenant);
        Assert.Equal(new Dictionary<string, string?> { ["slug"] = "acme-staging", ["name"] = "", ["note"] = "a=b" }, request.RootValues);
        Assert.Equal(RestoreMode.Merge, request.Mode);
        Assert.Equal(KeyCollisionAction.Fail, request.KeyCollision);
        Assert.True(request.NoPreBackup);
        Assert.True(request.DisableTriggers);
        Assert.Equal(["invoice*"], request.IncludeTables);
        Assert.Equal(["audit_log", "billing.tmp_*"], request.ExcludeTables);
        Assert.Equal(Path.GetFullPath("/srv/uploads/4242"), request.FilesPath);
        Assert.True(request.SkipFiles);
        Assert.Equal(TimeSpan.FromSeconds(90), request.LockTimeout);
    }

    [Fact]
    public void OptionsLeftOutGiveTheEngineDefaults()
    {
        var request = Request("restore", "0192f0c1-0000-7000-8000-000000000042", "--connection", "Host=db1");

        RequestAssert.HasEngineDefaults(request);
        Assert.Equal("0192f0c1-0000-7000-8000-000000000042", request.BackupId);
        Assert.Null(request.ArchivePath);
    }

    [Fact]
    public void WithoutConnectionTheStandardPgSourcesApply()
    {
        Assert.Equal(ConnectionStrings.Build(null, null, null, null, null, null), Request("restore", "0001").ConnectionString);
    }

    [Theory]
    [InlineData("0192f0c1-0000-7000-8000-000000000042", false)]
    [InlineData("01JB0000000000000000000000", false)]
    [InlineData("tenant-42.tar.zst", true)]
    [InlineData("tenant-42.TAR.GZ", true)]
    [InlineData("tenant-42.tar", true)]
    [InlineData("./0001", true)]
    [InlineData("backups/0001", true)]
    [InlineData("/var/backups/tenants/0001", true)]
    [InlineData(@"backups\0001", true)]
    [InlineData("tenant-42.tar.zst.sha256", false)]
    public void TheArgumentIsAPathWhenItLooksLikeOne(string source, bool isPath)
    {
        Assert.Equal(isPath, RestoreCommand.IsPath(source, _ => false));
    }

    [Fact]
    public void TheArgumentIsAPathWhenAFileExistsThere()
    {
        // A file named like an id, in the current folder: the file is meant.
        Assert.True(RestoreCommand.IsPath("0001", path => path == "0001"));
        Assert.False(RestoreCommand.IsPath("0001", path => path == "0002"));
    }

    [Fact]
    public void AnExistingFileIsRestoredAsAnArchive()
    {
        using var folder = new TempFolder();
        var archive = Path.Combine(folder.Path, "backup");
        File.WriteAllBytes(archive, []);

        var request = Request("restore", archive);

        Assert.Equal(archive, request.ArchivePath);
        Assert.Null(request.BackupId);
    }

    [Fact]
    public void ARelativeArchivePathIsMadeAbsoluteAgainstTheCurrentDirectory()
    {
        var request = Request("restore", "tenant-42.tar.zst", "--files-path", "files", "--repository", "repo");

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "tenant-42.tar.zst"), request.ArchivePath);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "files"), request.FilesPath);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "repo"), request.Repository);
    }

    [Theory]
    [InlineData("replace", RestoreMode.Replace)]
    [InlineData("merge", RestoreMode.Merge)]
    [InlineData("append", RestoreMode.Append)]
    public void EveryModeIsAccepted(string value, RestoreMode expected)
    {
        Assert.Equal(expected, Request("restore", "0001", "--mode", value).Mode);
    }

    [Theory]
    [InlineData("remap", KeyCollisionAction.Remap)]
    [InlineData("fail", KeyCollisionAction.Fail)]
    public void EveryKeyCollisionActionIsAccepted(string value, KeyCollisionAction expected)
    {
        Assert.Equal(expected, Request("restore", "0001", "--key-collision", value).KeyCollision);
    }

    [Theory]
    [InlineData("5m", 300)]
    [InlineData("00:01:30", 90)]
    public void LockTimeoutTakesDurationsLikeBackup(string value, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Request("restore", "0001", "--lock-timeout", value).LockTimeout);
    }

    [Theory]
    [InlineData("restore")]
    [InlineData("restore", "")]
    [InlineData("restore", " ")]
    [InlineData("restore", "0001", "0002")]
    [InlineData("restore", "0001", "--mode", "upsert")]
    [InlineData("restore", "0001", "--mode", "Replace")]
    [InlineData("restore", "0001", "--mode")]
    [InlineData("restore", "0001", "--key-collision", "skip")]
    [InlineData("restore", "0001", "--target-tenant", "")]
    [InlineData("restore", "0001", "--root-value", "slug")]
    [InlineData("restore", "0001", "--root-value", "=acme")]
    [InlineData("restore", "0001", "--root-value")]
    [InlineData("restore", "0001", "--lock-timeout", "soon")]
    [InlineData("restore", "0001", "--no-such-option")]
    [InlineData("restore", "0001", "--tenant", "42")]
    public async Task UsageErrorsExitWithTwoAndPrintOnlyToStderr(params string[] args)
    {
        var (exitCode, stdout, stderr) = await RunAsync(Terminal("y\n"), args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith("tenantbackup: usage: ", stderr, StringComparison.Ordinal);
        Assert.Contains("tenantbackup restore --help", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[y/N]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AColumnGivenTwiceToRootValueIsAnInvalidArgumentBeforeTheDatabaseIsTouched()
    {
        var (exitCode, stdout, stderr) = await RunAsync(
            NoTerminal, "restore", "0001", "--connection", Unreachable, "--yes", "--root-value", "slug=a", "--root-value", "slug=b");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.Contains("--root-value sets the column slug twice", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutYesAndWithoutATerminalItRefusesBeforeTouchingAnything()
    {
        var (exitCode, stdout, stderr) = await RunAsync(NoTerminal, "restore", "0001", "--connection", Unreachable);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.Equal($"tenantbackup: usage: {RestoreCommand.ConfirmationRequired}{Environment.NewLine}", stderr);
        Assert.Equal("restore changes the database; pass --yes to confirm", RestoreCommand.ConfirmationRequired);
    }

    [Theory]
    [InlineData("n\n")]
    [InlineData("\n")]
    [InlineData("")]
    [InlineData("yep\n")]
    public async Task OnATerminalAnythingButYesDeclines(string typed)
    {
        var (exitCode, stdout, stderr) = await RunAsync(
            Terminal(typed), "restore", "0001", "--connection", Unreachable, "--target-tenant", "4242");

        Assert.Equal(ExitCodes.Failure, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith(
            "Restore backup 0001 into tenant '4242' of database 'app' on 127.0.0.1:1 (mode replace)? [y/N] ",
            stderr,
            StringComparison.Ordinal);
        Assert.EndsWith($"tenantbackup: not restored; nothing was changed.{Environment.NewLine}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("y\n")]
    [InlineData("YES\n")]
    [InlineData(" y \n")]
    public async Task OnATerminalYesGoesOnToTheRestore(string typed)
    {
        var archive = Path.Combine(Path.GetTempPath(), "tenantbackup-tests-missing-" + Guid.NewGuid().ToString("N") + ".tar.zst");

        var (_, stdout, stderr) = await RunAsync(Terminal(typed), "restore", archive, "--connection", Unreachable, "--no-pre-backup");

        Assert.StartsWith(
            $"Restore archive '{archive}' into the backup's own tenant of database 'app' on 127.0.0.1:1 " +
            "(mode replace, without a safety backup)? [y/N] ",
            stderr,
            StringComparison.Ordinal);
        Assert.DoesNotContain("not restored", stderr, StringComparison.Ordinal);

        // The engine ran (and, with no such archive and no server, failed): that is all this test is about.
        Assert.Contains("tenantbackup: error ", stderr, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task YesRestoresWithoutAskingEvenWithoutATerminal()
    {
        var (exitCode, _, stderr) = await RunAsync(NoTerminal, "restore", "0001", "--connection", Unreachable, "--yes");

        Assert.NotEqual(ExitCodes.Usage, exitCode);
        Assert.DoesNotContain("[y/N]", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(RestoreCommand.ConfirmationRequired, stderr, StringComparison.Ordinal);
        Assert.Contains("tenantbackup: error ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRunNeedsNoConfirmation()
    {
        var (exitCode, _, stderr) = await RunAsync(NoTerminal, "restore", "0001", "--connection", Unreachable, "--dry-run");

        Assert.NotEqual(ExitCodes.Usage, exitCode);
        Assert.DoesNotContain("[y/N]", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(RestoreCommand.ConfirmationRequired, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnparseableConnectionStringIsAUsageErrorBeforeAnyQuestion()
    {
        var (exitCode, stdout, stderr) = await RunAsync(
            Terminal("y\n"), "restore", "0001", "--connection", "Host=db1;Password=S3cr3t;Port=abc");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith("tenantbackup: error InvalidArgument: ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[y/N]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpListsTheOptions()
    {
        var (exitCode, stdout, stderr) = await RunAsync(NoTerminal, "restore", "--help");

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Empty(stderr);
        foreach (var option in (string[])["ID|PATH", "--target-tenant", "--mode", "--key-collision", "--dry-run", "--yes", "--files-path"])
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ARestorablePlanExitsWithZeroAndOnlyThePlanOnStdout()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await RestoreCommand.ReportAsync(Plan(problems: []), json: true, stdout, stderr);

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Empty(stderr.ToString());
        using var json = JsonDocument.Parse(stdout.ToString());
        Assert.True(json.RootElement.GetProperty("canRestore").GetBoolean());
    }

    [Fact]
    public async Task ARefusedPlanExitsWithFiveAndNamesTheProblemsOnStderr()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await RestoreCommand.ReportAsync(
            Plan(problems: ["public.customers lacks column email."]), json: false, stdout, stderr);

        Assert.Equal(ExitCodes.Refused, exitCode);
        Assert.Contains("public.customers lacks column email.", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal(
            $"tenantbackup: the restore would be refused: public.customers lacks column email.{Environment.NewLine}", stderr.ToString());
    }

    [Fact]
    public void ThePlanAsJsonIsCamelCaseWithEnumsAsTheOptionValues()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(Plan(problems: ["x"]), JsonOutput.Options));
        var root = json.RootElement;

        Assert.Equal("merge", root.GetProperty("mode").GetString());
        Assert.Equal("remap", root.GetProperty("keyCollision").GetString());
        Assert.False(root.GetProperty("canRestore").GetBoolean());
        Assert.Equal(2, root.GetProperty("tables").GetArrayLength());
        Assert.Equal(7, root.GetProperty("tables")[1].GetProperty("remap").GetInt64());
        Assert.Equal("deferred", root.GetProperty("cycles")[0].GetProperty("edges")[0].GetProperty("breakBy").GetString());
        Assert.All(root.EnumerateObject(), p => Assert.True(char.IsLower(p.Name[0]), p.Name));
    }

    [Fact]
    public void TheResultAsJsonCarriesTheTotalsAndTheUndoId()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(Result(), JsonOutput.Options));
        var root = json.RootElement;

        Assert.Equal(110, root.GetProperty("inserted").GetInt64());
        Assert.Equal(95, root.GetProperty("deleted").GetInt64());
        Assert.Equal(7, root.GetProperty("remapped").GetInt64());
        Assert.Equal("0192f0c2-0000-7000-8000-000000000001", root.GetProperty("preRestoreBackupId").GetString());
        Assert.Equal("replace", root.GetProperty("mode").GetString());
        Assert.Equal(2, root.GetProperty("tables").GetArrayLength());
    }

    [Fact]
    public void TheResultAsTextIsASummaryLineThenOneLinePerTable()
    {
        var lines = TextOutput.Restore(Result()).Split(Environment.NewLine);

        Assert.Equal(
            "Restored backup 0192f0c1-0000-7000-8000-000000000042 (tenant 42) into tenant 4242 of PostgreSQL db1:5432/app, mode replace: "
                + "110 rows inserted, 0 updated, 95 deleted, 7 remapped, 3 files, in 2.3 s.",
            lines[0]);
        Assert.Contains("0192f0c2-0000-7000-8000-000000000001", lines[2], StringComparison.Ordinal);
        Assert.Contains("restore it to undo", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("TABLE", lines[4], StringComparison.Ordinal);
        Assert.Matches(@"^public\.customers\s+10\s+10\s+0\s+5\s+0$", lines[5]);
        Assert.Matches(@"^public\.invoices\s+100\s+100\s+0\s+90\s+7$", lines[6]);
        Assert.Equal(7, lines.Length);
    }

    [Fact]
    public void APlanAsTextShowsTablesCollisionsCyclesDifferencesAndProblems()
    {
        var text = TextOutput.Plan(Plan(problems: ["Table public.invoices: column email is missing in the target."]));

        Assert.StartsWith(
            "Restore plan: backup 0192f0c1-0000-7000-8000-000000000042 (tenant 42) into tenant 4242 of PostgreSQL db1:5432/app.",
            text,
            StringComparison.Ordinal);
        Assert.Matches(@"(?m)^public\.invoices\s+100\s+100\s+0\s+90\s+7\r?$", text);
        Assert.Contains(
            "Key collisions:" + Environment.NewLine +
            "  public.invoices (id): 7 value(s) already used by other tenants, e.g. 1, 2 -> remap",
            text,
            StringComparison.Ordinal);
        Assert.Contains(
            "public.stores -> public.staff; stores_manager_fk (public.stores -> public.staff): deferred; " +
            "staff_store_fk (public.staff -> public.stores): kept in order",
            text,
            StringComparison.Ordinal);
        Assert.Contains("[blocking] Column email of public.invoices is missing in the target.", text, StringComparison.Ordinal);
        Assert.Contains(
            "Problems:" + Environment.NewLine + "  Table public.invoices: column email is missing in the target.",
            text,
            StringComparison.Ordinal);
        Assert.EndsWith("The restore would be refused: 1 problem(s) above.", text, StringComparison.Ordinal);
        Assert.EndsWith("The restore can proceed.", TextOutput.Plan(Plan(problems: [])), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.25, "250 ms")]
    [InlineData(2.34, "2.3 s")]
    [InlineData(245, "4 min 05 s")]
    [InlineData(93780, "26 h 03 min")]
    public void DurationsAreForPeople(double seconds, string expected)
    {
        Assert.Equal(expected, TextOutput.Elapsed(TimeSpan.FromSeconds(seconds)));
    }

    private static RestoreResult Result() => new()
    {
        Id = "0192f0c3-0000-7000-8000-000000000001",
        BackupId = "0192f0c1-0000-7000-8000-000000000042",
        Tenant = "42",
        TargetTenant = "4242",
        Database = "PostgreSQL db1:5432/app",
        Mode = RestoreMode.Replace,
        PreRestoreBackupId = "0192f0c2-0000-7000-8000-000000000001",
        StartedAt = DateTimeOffset.UnixEpoch,
        Duration = TimeSpan.FromSeconds(2.3),
        FilesRestored = 3,
        Path = "/var/backups/tenants/tenant-42.tar.zst",
        Tables =
        [
            new RestoreTableResult { Table = "public.customers", ArchiveRows = 10, Inserted = 10, Updated = 0, Deleted = 5, Remapped = 0 },
            new RestoreTableResult
            {
                Table = "public.invoices", ArchiveRows = 100, Inserted = 100, Updated = 0, Deleted = 90, Remapped = 7,
            },
        ],
    };

    private static RestorePlan Plan(IReadOnlyList<string> problems) => new()
    {
        BackupId = "0192f0c1-0000-7000-8000-000000000042",
        Tenant = "42",
        TargetTenant = "4242",
        Database = "PostgreSQL db1:5432/app",
        Mode = RestoreMode.Merge,
        KeyCollision = KeyCollisionAction.Remap,
        PreRestoreBackup = true,
        Tables =
        [
            new RestoreTablePlan { Table = "public.customers", ArchiveRows = 10, Insert = 10, Update = 0, Delete = 5, Remap = 0 },
            new RestoreTablePlan { Table = "public.invoices", ArchiveRows = 100, Insert = 100, Update = 0, Delete = 90, Remap = 7 },
        ],
        Collisions =
        [
            new KeyCollisionInfo
            {
                Table = "public.invoices", Columns = ["id"], Surrogate = true, Count = 7, Examples = ["1", "2"], Resolution = "remap",
            },
        ],
        Cycles =
        [
            new ScopeCycle(
                ["public.stores", "public.staff"],
                [
                    new CycleEdge(
                        "stores_manager_fk", "public.stores", "public.staff", Deferrable: true, Nullable: true, BreakBy: "deferred"),
                    new CycleEdge("staff_store_fk", "public.staff", "public.stores", Deferrable: false, Nullable: false, BreakBy: null),
                ],
                Breakable: true),
        ],
        SchemaDifferences =
        [
            new SchemaDifference
            {
                Table = "public.invoices", Column = "email", Kind = "missing-column", Archive = "text", Blocking = true,
                Message = "Column email of public.invoices is missing in the target.",
            },
        ],
        Files = 0,
        Problems = problems,
        Path = "/var/backups/tenants/tenant-42.tar.zst",
    };
}
