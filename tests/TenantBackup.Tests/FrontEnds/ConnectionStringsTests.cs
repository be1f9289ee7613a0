using TenantBackup.Engine;
using Xunit;
using static TenantBackup.Tests.FrontEnds.NewTenantBackupRequestTests;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>ConnectionStrings: what the front ends hand the engine, and what they may show.</summary>
public class ConnectionStringsTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static string Build(
        string? connectionString = null,
        string? server = null,
        int? port = null,
        string? database = null,
        string? userName = null,
        string? password = null,
        Dictionary<string, string>? environment = null,
        params string[] existingFiles)
        => ConnectionStrings.Build(
            connectionString,
            server,
            port,
            database,
            userName,
            password,
            name => (environment ?? NoEnvironment).GetValueOrDefault(name),
            existingFiles.Contains);

    [Fact]
    public void PartsGivenSeparatelyWinOverTheConnectionString()
    {
        var parts = ParseConnectionString(Build("Host=a;Port=1;Database=x;Username=u;Password=p;Timeout=7", "b", 2, "y", "v", "q"));

        Assert.Equal("b", parts["Host"]);
        Assert.Equal("2", parts["Port"]);
        Assert.Equal("y", parts["Database"]);
        Assert.Equal("v", parts["Username"]);
        Assert.Equal("q", parts["Password"]);
        Assert.Equal("7", parts["Timeout"]);
    }

    [Fact]
    public void SynonymsInTheConnectionStringAreUnderstood()
    {
        var parts = ParseConnectionString(Build("Server=a;User ID=u;Pwd=p;DB=d"));

        Assert.Equal(("a", "u", "p", "d"), (parts["Host"], parts["Username"], parts["Password"], parts["Database"]));
    }

    [Fact]
    public void MissingHostPortDatabaseAndSslModeComeFromThePgVariables()
    {
        var environment = new Dictionary<string, string>
        {
            ["PGHOST"] = "envhost",
            ["PGPORT"] = "6000",
            ["PGDATABASE"] = "envdb",
            ["PGSSLMODE"] = "verify-full",
            ["PGUSER"] = "envuser",
            ["PGPASSWORD"] = "envpw",
        };

        var parts = ParseConnectionString(Build(environment: environment));

        Assert.Equal("envhost", parts["Host"]);
        Assert.Equal("6000", parts["Port"]);
        Assert.Equal("envdb", parts["Database"]);
        Assert.Equal("VerifyFull", parts["SSL Mode"]);

        // Npgsql reads these itself at connect time; copying them would put the password into a string.
        Assert.False(parts.ContainsKey("Username"));
        Assert.False(parts.ContainsKey("Password"));
    }

    [Fact]
    public void GivenPartsBeatThePgVariables()
    {
        var environment = new Dictionary<string, string> { ["PGHOST"] = "envhost", ["PGPORT"] = "6000", ["PGDATABASE"] = "envdb" };

        var parts = ParseConnectionString(Build("Host=cs;Port=5433", database: "given", environment: environment));

        Assert.Equal(("cs", "5433", "given"), (parts["Host"], parts["Port"], parts["Database"]));
    }

    [Fact]
    public void WithoutAnyHostTheLocalSocketIsUsedWhenAServerListensThere()
    {
        var viaSocket = ParseConnectionString(Build(existingFiles: "/var/run/postgresql/.s.PGSQL.5432"));
        var viaTmpSocket = ParseConnectionString(Build(port: 5433, existingFiles: "/tmp/.s.PGSQL.5433"));
        var viaTcp = ParseConnectionString(Build());

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal("/var/run/postgresql", viaSocket["Host"]);
            Assert.Equal("/tmp", viaTmpSocket["Host"]);
        }

        Assert.Equal("localhost", viaTcp["Host"]);
        Assert.False(viaTcp.ContainsKey("Port"));
    }

    [Theory]
    [InlineData("PGPORT", "70000")]
    [InlineData("PGPORT", "abc")]
    [InlineData("PGSSLMODE", "sometimes")]
    public void BadPgVariablesAreInvalidArguments(string name, string value)
    {
        var error = Assert.Throws<TenantBackupException>(() => Build(environment: new() { [name] = value }));

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APortOutOfRangeIsAnInvalidArgument()
    {
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<TenantBackupException>(() => Build(port: 0)).Code);
    }

    [Fact]
    public void RedactRemovesThePasswordWhateverItsSpelling()
    {
        foreach (var connectionString in new[] { "Host=h;Password=S3cr3t", "Host=h;PWD=S3cr3t", "host=h;password='S3cr3t;x'" })
        {
            var redacted = ConnectionStrings.Redact(connectionString);

            Assert.DoesNotContain("S3cr3t", redacted, StringComparison.Ordinal);
            Assert.Contains("Host=h", redacted, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RedactAndDescribeShowNothingOfAStringTheyCannotParse()
    {
        Assert.DoesNotContain("S3cr3t", ConnectionStrings.Redact("Host=h;Password=S3cr3t;junk"), StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", ConnectionStrings.Describe("Host=h;Password=S3cr3t;junk"), StringComparison.Ordinal);
    }

    [Fact]
    public void DescribeNamesDatabaseHostAndPort()
    {
        Assert.Equal("database 'app' on db1:6543", ConnectionStrings.Describe("Host=db1;Port=6543;Database=app;Password=x"));
    }
}
