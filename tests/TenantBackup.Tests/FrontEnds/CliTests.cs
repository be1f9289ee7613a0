using System.Text.Json;
using TenantBackup.Cli;
using TenantBackup.Cli.Commands;
using TenantBackup.Cli.Output;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using Xunit;
using static TenantBackup.Tests.FrontEnds.NewTenantBackupRequestTests;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>tenantbackup: the real System.CommandLine parser, request building, exit codes and output.</summary>
public class CliTests
{
    private static BackupRequest Request(params string[] args)
    {
        var parseResult = Program.Parse(args);
        Assert.Empty(parseResult.Errors);
        return BackupCommand.BuildRequest(parseResult);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Program.RunAsync(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void EveryBackupOptionReachesTheRequest()
    {
        var request = Request(
            "backup",
            "--connection", "Host=db1;Port=6543;Database=app;Username=backup;Password=S3cr3t",
            "--tenant", "42",
            "--tenant-column", "org_id",
            "--repository", "/var/backups/tenants",
            "--compression", "gzip",
            "--compression-level", "9",
            "--schema", "public", "--schema", "billing",
            "--include-table", "invoice*",
            "--exclude-table", "audit_log", "--exclude-table", "billing.tmp_*",
            "--include-path", "/srv/uploads/42", "--include-path", "/srv/avatars/42",
            "--message", "before the migration",
            "--lock-timeout", "90",
            "--json");

        var parts = ParseConnectionString(request.ConnectionString);
        Assert.Equal(
            ("db1", "6543", "app", "backup", "S3cr3t"),
            (parts["Host"], parts["Port"], parts["Database"], parts["Username"], parts["Password"]));
        Assert.Equal("42", request.Tenant);
        Assert.Equal("org_id", request.TenantColumn);
        Assert.Equal(Path.GetFullPath("/var/backups/tenants"), request.Repository);
        Assert.Equal(Compression.Gzip, request.Compression);
        Assert.True(request.CompressionExplicit);
        Assert.Equal(9, request.CompressionLevel);
        Assert.Equal(["public", "billing"], request.Schemas);
        Assert.Equal(["invoice*"], request.IncludeTables);
        Assert.Equal(["audit_log", "billing.tmp_*"], request.ExcludeTables);
        Assert.Equal([Path.GetFullPath("/srv/uploads/42"), Path.GetFullPath("/srv/avatars/42")], request.IncludePaths);
        Assert.Equal("before the migration", request.Message);
        Assert.Equal(TimeSpan.FromSeconds(90), request.LockTimeout);
        Assert.Equal(BackupKinds.Full, request.Kind);
    }

    [Fact]
    public void OptionsLeftOutGiveTheEngineDefaults()
    {
        var request = Request("backup", "--tenant", "42", "--connection", "Host=db1");

        RequestAssert.HasEngineDefaults(request);
    }

    [Fact]
    public void WithoutConnectionTheStandardPgSourcesApply()
    {
        var request = Request("backup", "--tenant", "42");

        Assert.Equal(ConnectionStrings.Build(null, null, null, null, null, null), request.ConnectionString);
        Assert.True(ParseConnectionString(request.ConnectionString).ContainsKey("Host"));
    }

    [Fact]
    public void RelativePathsAreMadeAbsoluteAgainstTheCurrentDirectory()
    {
        var request = Request("backup", "--tenant", "42", "--repository", "repo", "--include-path", "files");

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "repo"), request.Repository);
        Assert.Equal([Path.Combine(Environment.CurrentDirectory, "files")], request.IncludePaths);
    }

    [Theory]
    [InlineData("zstd", Compression.Zstd)]
    [InlineData("gzip", Compression.Gzip)]
    [InlineData("none", Compression.None)]
    public void CompressionGivenIsExplicit(string value, Compression expected)
    {
        var request = Request("backup", "--tenant", "42", "--compression", value);

        Assert.Equal(expected, request.Compression);
        Assert.True(request.CompressionExplicit);
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("1500ms", 1.5)]
    [InlineData("45s", 45)]
    [InlineData("5m", 300)]
    [InlineData("2h", 7200)]
    [InlineData("1d", 86400)]
    [InlineData("00:01:30", 90)]
    [InlineData("0.5", 0.5)]
    public void LockTimeoutTakesDurations(string value, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Request("backup", "--tenant", "42", "--lock-timeout", value).LockTimeout);
    }

    [Theory]
    [InlineData]
    [InlineData("frobnicate")]
    [InlineData("verify", "--quick", "--restore-test")]
    [InlineData("backup")]
    [InlineData("backup", "--tenant")]
    [InlineData("backup", "--tenant", "")]
    [InlineData("backup", "--tenant", "42", "--compression", "lz4")]
    [InlineData("backup", "--tenant", "42", "--compression", "ZSTD")]
    [InlineData("backup", "--tenant", "42", "--compression-level", "0")]
    [InlineData("backup", "--tenant", "42", "--compression-level", "many")]
    [InlineData("backup", "--tenant", "42", "--lock-timeout", "soon")]
    [InlineData("backup", "--tenant", "42", "--lock-timeout", "-5")]
    [InlineData("backup", "--tenant", "42", "--include-path", "a", "b")]
    [InlineData("backup", "--tenant", "42", "--no-such-option")]
    [InlineData("list", "--tenant")]
    [InlineData("list", "extra")]
    public async Task UsageErrorsExitWithTwoAndPrintOnlyToStderr(params string[] args)
    {
        var (exitCode, stdout, stderr) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith("tenantbackup: usage: ", stderr, StringComparison.Ordinal);
        Assert.Contains("--help", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnparseableConnectionStringIsAUsageErrorThatDoesNotShowThePassword()
    {
        var (exitCode, stdout, stderr) = await RunAsync("backup", "--tenant", "42", "--connection", "Host=db1;Password=S3cr3t;Port=abc");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith("tenantbackup: error InvalidArgument: ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpGoesToStdoutWithExitCodeZero()
    {
        var (exitCode, stdout, stderr) = await RunAsync("backup", "--help");

        Assert.Equal(ExitCodes.Success, exitCode);
        Assert.Contains("--tenant", stdout, StringComparison.Ordinal);
        Assert.Contains("--include-path", stdout, StringComparison.Ordinal);
        Assert.Empty(stderr);
    }

    [Fact]
    public void TheContractsOptionNamesExist()
    {
        // Scripts depend on these names (design: command-line contract); additions are fine, renames are not.
        var root = Program.CreateRootCommand();
        var backup = root.Subcommands.Single(c => c.Name == "backup").Options.Select(o => o.Name).ToHashSet();
        var list = root.Subcommands.Single(c => c.Name == "list").Options.Select(o => o.Name).ToHashSet();
        var restore = root.Subcommands.Single(c => c.Name == "restore").Options.Select(o => o.Name).ToHashSet();

        Assert.Subset(backup, new HashSet<string>
        {
            "--connection", "--tenant", "--tenant-column", "--repository", "--compression", "--include-path", "--message", "--json",
        });
        Assert.Subset(list, new HashSet<string> { "--repository", "--tenant", "--json" });
        Assert.Subset(restore, new HashSet<string>
        {
            "--connection", "--target-tenant", "--mode", "--key-collision", "--no-pre-backup", "--dry-run", "--json", "--yes",
        });
    }

    /// <summary>The exit code of every engine error code; a new code must be added here on purpose.</summary>
    public static TheoryData<ErrorCode, int> ExitCodeTable() => new()
    {
        { ErrorCode.InvalidArgument, 2 },
        { ErrorCode.TenantNotFound, 1 },
        { ErrorCode.InvalidTenantValue, 1 },
        { ErrorCode.ScopeError, 1 },
        { ErrorCode.RowLevelSecurity, 1 },
        { ErrorCode.TenantLocked, 4 },
        { ErrorCode.ConnectionFailed, 1 },
        { ErrorCode.AuthenticationFailed, 1 },
        { ErrorCode.PermissionDenied, 1 },
        { ErrorCode.DatabaseNotFound, 1 },
        { ErrorCode.DatabaseError, 1 },
        { ErrorCode.ArchiveCorrupt, 3 },
        { ErrorCode.ChecksumMismatch, 3 },
        { ErrorCode.ArchiveNotFound, 3 },
        { ErrorCode.CompressionUnavailable, 1 },
        { ErrorCode.RepositoryError, 1 },
        { ErrorCode.IndexCorrupt, 1 },
        { ErrorCode.IndexLocked, 1 },
        { ErrorCode.IOError, 1 },
        { ErrorCode.SchemaMismatch, 5 },
        { ErrorCode.KeyCollision, 5 },
        { ErrorCode.Cancelled, 1 },
        { ErrorCode.DecryptionFailed, 6 },
    };

    [Theory]
    [MemberData(nameof(ExitCodeTable))]
    public void EngineErrorsMapToTheDocumentedExitCodes(ErrorCode code, int exitCode)
    {
        Assert.Equal(exitCode, ExitCodes.For(code));
    }

    [Fact]
    public void TheExitCodeTableCoversEveryEngineCode()
    {
        Assert.Equal(Enum.GetValues<ErrorCode>().Order(), ExitCodeTable().Select(row => (ErrorCode)row[0]).Order());
    }

    [Fact]
    public void JsonIsCamelCaseAndCarriesEveryProperty()
    {
        var backup = GetTenantBackupFilterTests.Backup(
            "0001", "Zürich+1", BackupKinds.Full, new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(backup, JsonOutput.Options));

        var names = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(typeof(BackupInfo).GetProperties().Length, names.Count);
        Assert.All(names, n => Assert.True(char.IsLower(n[0]), n));
        Assert.Equal("Zürich+1", json.RootElement.GetProperty("tenant").GetString());
        Assert.Equal("tenant_id", json.RootElement.GetProperty("tenantColumn").GetString());
        Assert.Equal("2025-01-02T03:04:05+00:00", json.RootElement.GetProperty("createdAt").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("parentId").ValueKind);
        Assert.Contains("Zürich+1", JsonSerializer.Serialize(backup, JsonOutput.Options), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListJsonOfAnEmptyRepositoryIsAnEmptyArrayAndNothingElse()
    {
        using var folder = new TempFolder();
        BackupRepository.Open(folder.Path, create: true);

        var (exitCode, stdout, stderr) = await RunAsync("list", "--repository", folder.Path, "--json");

        Assert.True(exitCode == ExitCodes.Success, stderr);
        Assert.Empty(stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(JsonValueKind.Array, json.RootElement.ValueKind);
        Assert.Equal(0, json.RootElement.GetArrayLength());
    }

    [Fact]
    public void ProgressOnStderrIsOneLinePerTableNotPerBlock()
    {
        using var stderr = new StringWriter();
        var progress = new StderrProgress(stderr);

        progress.Report(new ProgressEvent("scope", null, 0, 2, 0, 0));
        progress.Report(new ProgressEvent("export", "public.customers", 0, 2, 0, 0));
        progress.Report(new ProgressEvent("export", "public.customers", 0, 2, 500, 65536));
        progress.Report(new ProgressEvent("export", "public.invoices", 1, 2, 1000, 131072));
        progress.Report(new ProgressEvent("export", "public.customers", 1, 2, 1500, 196608));
        progress.Report(new ProgressEvent("export", "public.invoices", 1, 2, 2000, 262144));
        progress.Report(new ProgressEvent("finish", null, 2, 2, 2000, 262144));

        Assert.Equal(
            [
                "tenantbackup: scope",
                "tenantbackup: export public.customers (0/2 tables done)",
                "tenantbackup: export public.invoices (1/2 tables done)",
                "tenantbackup: finish",
            ],
            stderr.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void TheTextSummaryNamesTenantDatabaseAndArchive()
    {
        var backup = GetTenantBackupFilterTests.Backup("0001", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch);

        var text = TextOutput.Backup(backup);

        Assert.Contains("tenant 42", text, StringComparison.Ordinal);
        Assert.Contains("'app'", text, StringComparison.Ordinal);
        Assert.Contains(backup.Path, text, StringComparison.Ordinal);
        Assert.Contains("4.8 MB", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTextListIsATableWithAHeader()
    {
        var backups = new[]
        {
            GetTenantBackupFilterTests.Backup("0001", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch),
            GetTenantBackupFilterTests.Backup("0002", "7", BackupKinds.PreRestore, DateTimeOffset.UnixEpoch),
        };

        var lines = TextOutput.List(backups, "/repo").Split(Environment.NewLine);

        Assert.Equal(3, lines.Length);
        Assert.StartsWith("TENANT", lines[0], StringComparison.Ordinal);
        Assert.Contains("pre-restore", lines[2], StringComparison.Ordinal);
        Assert.Equal("No backups in /repo.", TextOutput.List([], "/repo"));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KB")]
    [InlineData(1536, "1.5 KB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0 GB")]
    public void SizesAreForPeople(long bytes, string expected)
    {
        Assert.Equal(expected, TextOutput.Size(bytes));
    }
}
