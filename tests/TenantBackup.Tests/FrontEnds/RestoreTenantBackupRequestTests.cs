using System.Management.Automation;
using System.Net;
using TenantBackup.Engine;
using TenantBackup.PowerShell.Commands;
using Xunit;
using static TenantBackup.Tests.FrontEnds.NewTenantBackupRequestTests;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>Restore-TenantBackup's parameters → RestoreRequest, through the pure BuildRequest method.</summary>
public class RestoreTenantBackupRequestTests
{
    private static readonly Func<string, string> FromHome = path => Path.IsPathRooted(path) ? path : "/home/op/" + path;

    private static BackupInfo Backup(string repository = "/var/backups/tenants")
        => GetTenantBackupFilterTests.Backup(
            "0192f0c1-0000-7000-8000-000000000042", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch, repository);

    [Fact]
    public void EveryParameterReachesTheRequest()
    {
        var command = new RestoreTenantBackupCommand
        {
            ConnectionString = "Host=db1;Port=6543;Database=app;Username=restore",
            Id = "0192f0c1-0000-7000-8000-000000000042",
            Repository = "repo",
            TargetTenant = "4242",
            RootValues = new System.Collections.Hashtable { ["slug"] = "acme-staging" },
            Mode = RestoreMode.Merge,
            KeyCollision = KeyCollisionAction.Fail,
            NoPreBackup = true,
            DisableTriggers = true,
            IncludeTable = ["invoice*"],
            ExcludeTable = ["audit_log", "billing.tmp_*"],
            FilesPath = "files/4242",
            SkipFiles = true,
            LockTimeout = TimeSpan.FromSeconds(90),
            Force = true,
        };

        var request = command.BuildRequest(resolvePath: FromHome);

        var parts = ParseConnectionString(request.ConnectionString);
        Assert.Equal(("db1", "6543", "app", "restore"), (parts["Host"], parts["Port"], parts["Database"], parts["Username"]));
        Assert.Equal("0192f0c1-0000-7000-8000-000000000042", request.BackupId);
        Assert.Null(request.ArchivePath);
        Assert.Equal("/home/op/repo", request.Repository);
        Assert.Equal("4242", request.TargetTenant);
        Assert.Equal(new Dictionary<string, string?> { ["slug"] = "acme-staging" }, request.RootValues);
        Assert.Equal(RestoreMode.Merge, request.Mode);
        Assert.Equal(KeyCollisionAction.Fail, request.KeyCollision);
        Assert.True(request.NoPreBackup);
        Assert.True(request.DisableTriggers);
        Assert.Equal(["invoice*"], request.IncludeTables);
        Assert.Equal(["audit_log", "billing.tmp_*"], request.ExcludeTables);
        Assert.Equal("/home/op/files/4242", request.FilesPath);
        Assert.True(request.SkipFiles);
        Assert.Equal(TimeSpan.FromSeconds(90), request.LockTimeout);
    }

    [Fact]
    public void RootValuesBecomeInvariantTextWithNullForNull()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        // A culture with a decimal comma, built by hand: the tests may run with invariant globalization only.
        var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        Thread.CurrentThread.CurrentCulture = comma;
        try
        {
            var command = new RestoreTenantBackupCommand
            {
                Id = "0001",
                RootValues = new System.Collections.Hashtable
                {
                    ["slug"] = new PSObject("acme-staging"),
                    ["name"] = "",
                    ["plan_id"] = 3,
                    ["balance"] = 1234.5m,
                    ["active"] = true,
                    ["created_at"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(1)),
                    ["note"] = null,
                    ["legacy"] = DBNull.Value,
                },
            };

            var values = command.BuildRequest().RootValues;

            Assert.Equal(
                new Dictionary<string, string?>
                {
                    ["slug"] = "acme-staging",
                    ["name"] = "",
                    ["plan_id"] = "3",
                    ["balance"] = "1234.5",
                    ["active"] = "True",
                    ["created_at"] = "2026-01-02T03:04:05.0000000+01:00",
                    ["note"] = null,
                    ["legacy"] = null,
                },
                values);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Fact]
    public void ParametersLeftOutGiveTheEngineDefaults()
    {
        var request = new RestoreTenantBackupCommand { ConnectionString = "Host=db1", Id = "0001" }.BuildRequest();

        RequestAssert.HasEngineDefaults(request);
        Assert.Equal("0001", request.BackupId);
    }

    [Theory]
    [InlineData(RestoreMode.Replace)]
    [InlineData(RestoreMode.Merge)]
    [InlineData(RestoreMode.Append)]
    public void EveryModeReachesTheRequest(RestoreMode mode)
    {
        Assert.Equal(mode, new RestoreTenantBackupCommand { Id = "0001", Mode = mode }.BuildRequest().Mode);
    }

    [Fact]
    public void PathIsResolvedAndSentAsTheArchive()
    {
        var request = new RestoreTenantBackupCommand { ConnectionString = "Host=db1", Path = "tenant-42.tar.zst" }
            .BuildRequest(resolvePath: FromHome);

        Assert.Equal("/home/op/tenant-42.tar.zst", request.ArchivePath);
        Assert.Null(request.BackupId);
        Assert.Null(request.Repository);
    }

    [Fact]
    public void WhenIdAndPathBothCameByPropertyNameTheFileIsRestored()
    {
        // What a deserialized BackupInfo (Import-Clixml, remoting) binds: Id, Path and Repository by property name.
        var request = new RestoreTenantBackupCommand
        {
            Id = "0001", Path = "/var/backups/tenants/a.tar.zst", Repository = "/var/backups/tenants",
        }.BuildRequest();

        Assert.Equal("/var/backups/tenants/a.tar.zst", request.ArchivePath);
        Assert.Null(request.BackupId);
        Assert.Equal("/var/backups/tenants", request.Repository);
    }

    [Fact]
    public void APipedBackupIsRestoredFromItsFileIntoItsRepository()
    {
        var backup = Backup();

        var request = new RestoreTenantBackupCommand { ConnectionString = "Host=db1", InputObject = [backup] }
            .BuildRequest(backup, FromHome);

        Assert.Equal(backup.Path, request.ArchivePath);
        Assert.Null(request.BackupId);
        Assert.Equal("/var/backups/tenants", request.Repository);
    }

    [Fact]
    public void AnExplicitRepositoryWinsOverThePipedBackups()
    {
        var backup = Backup();

        var request = new RestoreTenantBackupCommand { InputObject = [backup], Repository = "other" }.BuildRequest(backup, FromHome);

        Assert.Equal(backup.Path, request.ArchivePath);
        Assert.Equal("/home/op/other", request.Repository);
    }

    [Fact]
    public void APipedBackupWinsOverTheIdAndPathItAlsoBoundByPropertyName()
    {
        var backup = Backup();

        var request = new RestoreTenantBackupCommand { InputObject = [backup], Id = backup.Id, Path = backup.Path }.BuildRequest(backup);

        Assert.Equal(backup.Path, request.ArchivePath);
        Assert.Null(request.BackupId);
    }

    [Fact]
    public void NoBackupNamedIsAnInvalidArgument()
    {
        var error = Assert.Throws<TenantBackupException>(
            () => new RestoreTenantBackupCommand { ConnectionString = "Host=db1" }.BuildRequest());

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("-Id", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Target);
    }

    [Fact]
    public void ServerSetBuildsTheConnectionStringWithTheCredentialsPassword()
    {
        var command = new RestoreTenantBackupCommand
        {
            Server = "db1.example.test",
            Port = 6543,
            Database = "app",
            Credential = new PSCredential("restore", new NetworkCredential(string.Empty, "S3cr3t;pw").SecurePassword),
            Id = "0001",
            TargetTenant = "4242",
        };

        var request = command.BuildRequest();
        var parts = ParseConnectionString(request.ConnectionString);

        Assert.Equal(
            ("db1.example.test", "6543", "app", "restore", "S3cr3t;pw"),
            (parts["Host"], parts["Port"], parts["Database"], parts["Username"], parts["Password"]));
        var target = RestoreTenantBackupCommand.DescribeTarget(request, backup: null);
        Assert.DoesNotContain("S3cr3t", target, StringComparison.Ordinal);
        Assert.Contains("backup 0001", target, StringComparison.Ordinal);
        Assert.Contains("tenant '4242'", target, StringComparison.Ordinal);
        Assert.Contains("'app'", target, StringComparison.Ordinal);
        Assert.Contains("db1.example.test:6543", target, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyCredentialIsLikeNoCredential()
    {
        var request = new RestoreTenantBackupCommand { Server = "db1", Id = "0001", Credential = PSCredential.Empty }.BuildRequest();

        Assert.False(ParseConnectionString(request.ConnectionString).ContainsKey("Password"));
    }

    [Fact]
    public void AnUnparseableConnectionStringIsAnInvalidArgumentThatDoesNotQuoteIt()
    {
        var command = new RestoreTenantBackupCommand { ConnectionString = "Host=db1;Password=S3cr3t;Port=abc", Id = "0001" };

        var error = Assert.Throws<TenantBackupException>(() => command.BuildRequest());

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.DoesNotContain("S3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTargetNamesTheBackupItsTenantTheTargetTenantAndTheDatabase()
    {
        var backup = Backup();
        var command = new RestoreTenantBackupCommand { ConnectionString = "Host=db1;Database=app;Password=S3cr3t", InputObject = [backup] };

        var sameTenant = RestoreTenantBackupCommand.DescribeTarget(command.BuildRequest(backup), backup);
        command.TargetTenant = "4242";
        var clone = RestoreTenantBackupCommand.DescribeTarget(command.BuildRequest(backup), backup);

        Assert.Contains(backup.Id, sameTenant, StringComparison.Ordinal);
        Assert.Contains(backup.Path, sameTenant, StringComparison.Ordinal);
        Assert.Contains("of tenant '42'", sameTenant, StringComparison.Ordinal);
        Assert.Contains("-> tenant '42' of database 'app' on db1:5432", sameTenant, StringComparison.Ordinal);
        Assert.Contains("-> tenant '4242'", clone, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", sameTenant + clone, StringComparison.Ordinal);

        var byPath = new RestoreTenantBackupCommand { Path = "/b/a.tar.zst" }.BuildRequest();
        Assert.StartsWith(
            "archive '/b/a.tar.zst' -> the backup's own tenant of ",
            RestoreTenantBackupCommand.DescribeTarget(byPath, null),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RestoreMode.Replace, "delete the tenant's current rows")]
    [InlineData(RestoreMode.Merge, "overwrite rows with the same key")]
    [InlineData(RestoreMode.Append, "add rows whose key is absent")]
    public void TheActionSaysWhatHappensToTheCurrentRows(RestoreMode mode, string expected)
    {
        var request = new RestoreTenantBackupCommand { Id = "0001", Mode = mode }.BuildRequest();

        Assert.Contains(expected, RestoreTenantBackupCommand.DescribeAction(request), StringComparison.Ordinal);
        Assert.EndsWith(
            "without a safety backup",
            RestoreTenantBackupCommand.DescribeAction(request with { NoPreBackup = true }),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(90, 90.0)]
    [InlineData("00:01:30", 90.0)]
    public void LockTimeoutTakesSecondsOrATimeSpanLikeNewTenantBackup(object input, double expectedSeconds)
    {
        var transformation = typeof(RestoreTenantBackupCommand).GetProperty(nameof(RestoreTenantBackupCommand.LockTimeout))!
            .GetCustomAttributes(typeof(ArgumentTransformationAttribute), inherit: false)
            .Cast<ArgumentTransformationAttribute>()
            .Single();

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), transformation.Transform(null!, input));
    }
}
