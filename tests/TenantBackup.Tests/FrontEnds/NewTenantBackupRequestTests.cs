using System.Management.Automation;
using System.Net;
using TenantBackup.Engine;
using TenantBackup.PowerShell.Commands;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>New-TenantBackup's parameters → BackupRequest, through the pure BuildRequest method.</summary>
public class NewTenantBackupRequestTests
{

    [Fact]
    public void EveryParameterReachesTheRequest()
    {
        var command = new NewTenantBackupCommand
        {
            ConnectionString = "Host=db1;Port=6543;Database=app;Username=backup",
            Tenant = "42",
            TenantColumn = "org_id",
            Repository = "repo",
            Compression = Compression.Gzip,
            CompressionLevel = 9,
            Schema = ["public", "billing"],
            IncludeTable = ["invoice*"],
            ExcludeTable = ["audit_log", "billing.tmp_*"],
            IncludePath = ["files/42", "/srv/uploads/42"],
            Message = "before the migration",
            LockTimeout = TimeSpan.FromSeconds(90),
        };

        var request = command.BuildRequest(path => Path.IsPathRooted(path) ? path : "/home/op/" + path);

        var parts = ParseConnectionString(request.ConnectionString);
        Assert.Equal(("db1", "6543", "app", "backup"), (parts["Host"], parts["Port"], parts["Database"], parts["Username"]));
        Assert.Equal("42", request.Tenant);
        Assert.Equal("org_id", request.TenantColumn);
        Assert.Equal("/home/op/repo", request.Repository);
        Assert.Equal(Compression.Gzip, request.Compression);
        Assert.True(request.CompressionExplicit);
        Assert.Equal(9, request.CompressionLevel);
        Assert.Equal(["public", "billing"], request.Schemas);
        Assert.Equal(["invoice*"], request.IncludeTables);
        Assert.Equal(["audit_log", "billing.tmp_*"], request.ExcludeTables);
        Assert.Equal(["/home/op/files/42", "/srv/uploads/42"], request.IncludePaths);
        Assert.Equal("before the migration", request.Message);
        Assert.Equal(TimeSpan.FromSeconds(90), request.LockTimeout);
        Assert.Equal(BackupKinds.Full, request.Kind);
        Assert.Null(request.ParentId);
    }

    [Fact]
    public void ParametersLeftOutGiveTheEngineDefaults()
    {
        var request = new NewTenantBackupCommand { ConnectionString = "Host=db1", Tenant = "42" }.BuildRequest();

        RequestAssert.HasEngineDefaults(request);
    }

    [Fact]
    public void CompressionSetToTheDefaultValueIsStillExplicit()
    {
        // -Compression Zstd means "zstd or fail", unlike leaving it out (zstd, else gzip with a warning).
        var request = new NewTenantBackupCommand { ConnectionString = "Host=db1", Tenant = "42", Compression = Compression.Zstd }
            .BuildRequest();

        Assert.Equal(Compression.Zstd, request.Compression);
        Assert.True(request.CompressionExplicit);
    }

    [Fact]
    public void ServerSetBuildsTheConnectionStringWithTheCredentialsPassword()
    {
        var command = new NewTenantBackupCommand
        {
            Server = "db1.example.test",
            Port = 6543,
            Database = "app",
            Credential = new PSCredential("backup", new NetworkCredential(string.Empty, "S3cr3t;pw").SecurePassword),
            Tenant = "42",
            Repository = "/var/backups/tenants",
        };

        var request = command.BuildRequest();
        var parts = ParseConnectionString(request.ConnectionString);

        Assert.Equal("db1.example.test", parts["Host"]);
        Assert.Equal("6543", parts["Port"]);
        Assert.Equal("app", parts["Database"]);
        Assert.Equal("backup", parts["Username"]);

        // The engine needs the password to connect, so the request carries it (quoted, ';' and all)...
        Assert.Equal("S3cr3t;pw", parts["Password"]);

        // ...but nothing shown to people does.
        var target = NewTenantBackupCommand.DescribeTarget(request, request.Repository!);
        Assert.DoesNotContain("S3cr3t", target, StringComparison.Ordinal);
        Assert.Contains("'42'", target, StringComparison.Ordinal);
        Assert.Contains("'app'", target, StringComparison.Ordinal);
        Assert.Contains("db1.example.test:6543", target, StringComparison.Ordinal);
        Assert.Contains("/var/backups/tenants", target, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", ConnectionStrings.Redact(request.ConnectionString), StringComparison.Ordinal);
    }

    [Fact]
    public void ServerSetWithoutCredentialLeavesThePasswordToPgpassAndPgPassword()
    {
        var request = new NewTenantBackupCommand { Server = "db1", Tenant = "42" }.BuildRequest();
        var parts = ParseConnectionString(request.ConnectionString);

        Assert.Equal("db1", parts["Host"]);
        Assert.False(parts.ContainsKey("Password"));
        Assert.False(parts.ContainsKey("Username"));
    }

    [Fact]
    public void EmptyCredentialIsLikeNoCredential()
    {
        var request = new NewTenantBackupCommand { Server = "db1", Tenant = "42", Credential = PSCredential.Empty }.BuildRequest();

        Assert.False(ParseConnectionString(request.ConnectionString).ContainsKey("Password"));
    }

    [Fact]
    public void AnUnparseableConnectionStringIsAnInvalidArgumentThatDoesNotQuoteIt()
    {
        var command = new NewTenantBackupCommand { ConnectionString = "Host=db1;Password=S3cr3t;Port=abc", Tenant = "42" };

        var error = Assert.Throws<TenantBackupException>(() => command.BuildRequest());

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.DoesNotContain("S3cr3t", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", error.Target?.ToString() ?? string.Empty, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(90, 90.0)]
    [InlineData(2.5, 2.5)]
    [InlineData("45", 45.0)]
    [InlineData("00:01:30", 90.0)]
    public void LockTimeoutTakesSecondsOrATimeSpan(object input, double expectedSeconds)
    {
        var transformation = typeof(NewTenantBackupCommand).GetProperty(nameof(NewTenantBackupCommand.LockTimeout))!
            .GetCustomAttributes(typeof(ArgumentTransformationAttribute), inherit: false)
            .Cast<ArgumentTransformationAttribute>()
            .Single();

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), transformation.Transform(null!, input));
        Assert.Equal(TimeSpan.FromMinutes(2), transformation.Transform(null!, new PSObject(TimeSpan.FromMinutes(2))));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData("soon")]
    public void LockTimeoutRefusesWhatIsNoTimeSpan(object input)
    {
        var transformation = typeof(NewTenantBackupCommand).GetProperty(nameof(NewTenantBackupCommand.LockTimeout))!
            .GetCustomAttributes(typeof(ArgumentTransformationAttribute), inherit: false)
            .Cast<ArgumentTransformationAttribute>()
            .Single();

        Assert.Throws<ArgumentTransformationMetadataException>(() => transformation.Transform(null!, input));
    }

    internal static Dictionary<string, string> ParseConnectionString(string connectionString)
    {
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return builder.Keys.Cast<string>().ToDictionary(k => k, k => builder[k].ToString()!, StringComparer.OrdinalIgnoreCase);
    }
}
