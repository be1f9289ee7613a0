using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>
/// The built <c>tenantbackup</c> as a child process: backups that cannot succeed end with exit code 1, one
/// <c>tenantbackup: error Code: message</c> line on stderr that says what to do, nothing on stdout, and nothing in the repository.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CliFailureTests(PostgresFixture fixture)
{
    [Fact]
    public async Task UnknownTenant_IsTenantNotFound_AndWritesNothing()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();

        var result = await CliProcess.RunAsync(
            ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "999", "--repository", folder.Path, "--json"]);

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Contains("tenantbackup: error TenantNotFound:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("999", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        AssertRepositoryHoldsNoBackup(folder.Path);
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task WrongTenantColumn_IsScopeError_ListingCandidateColumns()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();

        var result = await CliProcess.RunAsync(
        [
            "backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "2", "--tenant-column", "org_id",
            "--repository", folder.Path,
        ]);

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Contains("tenantbackup: error ScopeError:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("'org_id'", result.Stderr, StringComparison.Ordinal);
        // The column the schema really uses is among the candidates, with the number of tables that have it.
        Assert.Matches(@"Columns that look like tenant keys: .*tenant_id \(\d+ tables\)", result.Stderr);
        Assert.Contains("--tenant-column", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        AssertRepositoryHoldsNoBackup(folder.Path);
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task NothingListening_IsConnectionFailed_AndThePasswordIsPrintedNowhere()
    {
        const string password = "E2e-Pa55w0rd-must-not-leak";
        var port = UnusedPort();
        using var folder = new TempFolder();
        var connection = string.Create(
            CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Database=app;Username=backup;Password={password};Timeout=5");

        // --verbose: the debug log must not leak it either.
        var result = await CliProcess.RunAsync(
            ["backup", "--connection", connection, "--tenant", "42", "--repository", folder.Path, "--verbose", "--json"]);

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Contains("tenantbackup: error ConnectionFailed:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"), result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(password, result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(password, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        AssertRepositoryHoldsNoBackup(folder.Path);
        foreach (var file in Files(folder.Path))
        {
            Assert.DoesNotContain(password, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PortOutOfRangeInTheConnectionString_IsAUsageError_AndThePasswordIsPrintedNowhere()
    {
        const string password = "E2e-Pa55w0rd-must-not-leak";
        using var folder = new TempFolder();

        var result = await CliProcess.RunAsync(
        [
            "backup", "--connection", $"Host=127.0.0.1;Port=99999;Database=app;Username=backup;Password={password}",
            "--tenant", "42", "--repository", folder.Path,
        ]);

        // A value on the command line that cannot work is a usage error (exit 2) that names it, like Port=abc or PGPORT=99999.
        Assert.True(result.ExitCode == 2, result.Describe());
        Assert.Contains("tenantbackup: error InvalidArgument:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("99999", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(password, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        AssertRepositoryHoldsNoBackup(folder.Path);
    }

    [Fact]
    public async Task LockHeldPastTheCommandTimeout_WaitsTheLockTimeout_ThenIsTenantLocked()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        await using var holder = await fixture.OpenConnectionAsync(database);
        const string key = "hashtext('tenantbackup'), hashtext('tenant_id' || ':' || '2')";
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({key})", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        // --lock-timeout decides how long the backup waits for the tenant's lock. Npgsql's per-command timeout (30 s
        // by default) must not cut that wait short, nor turn it into a "connection lost". A 2 s Command Timeout stands
        // in for the default here, so that the test need not wait more than 30 s.
        var connection = fixture.ConnectionStringFor(database) + ";Command Timeout=2";
        var watch = Stopwatch.StartNew();
        var result = await CliProcess.RunAsync(
            ["backup", "--connection", connection, "--tenant", "2", "--repository", folder.Path, "--lock-timeout", "4s"]);
        var waited = watch.Elapsed;

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({key})", holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.True(result.ExitCode == 4, $"after {waited.TotalSeconds:0.0} s:{Environment.NewLine}{result.Describe()}");
        Assert.Contains("tenantbackup: error TenantLocked:", result.Stderr, StringComparison.Ordinal);
        Assert.True(waited >= TimeSpan.FromSeconds(4), $"It gave up after {waited.TotalSeconds:0.0} s, before the 4 s lock timeout.");
        AssertRepositoryHoldsNoBackup(folder.Path);
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    private static void AssertRepositoryHoldsNoBackup(string repository)
    {
        Assert.Empty(Archives(repository));
        Assert.Empty(Partials(repository));
        Assert.Empty(Sidecars(repository));
        Assert.Empty(IndexEntries(repository));
    }

    /// <summary>A loopback port nothing listens on (taken from the OS, then released).</summary>
    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
