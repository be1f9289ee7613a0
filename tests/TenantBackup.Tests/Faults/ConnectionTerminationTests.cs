using Npgsql;
using TenantBackup.Engine.Backup;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// <c>pg_terminate_backend</c> of the tool's sessions (found by their <c>application_name</c>, <c>tenantbackup</c>) while
/// <c>tenantbackup</c> waits at a pause point, then letting it go on: it fails with <c>ConnectionFailed</c> and a message
/// that says the server closed the connection, and leaves nothing half-done (no archive, no index entry; a restore rolled
/// back with its safety backup removed).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConnectionTerminationTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("backup.scope")]
    [InlineData("backup.table#5")]
    [InlineData("backup.manifest")]
    public async Task TerminatedMidBackup_FailsWithConnectionFailed_AndKeepsNothing(string point)
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        using var paused = await PausedCli.StartAsync(
            ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "2", "--repository", folder.Path, "--json"],
            point);

        Assert.True(await TerminateToolSessionsAsync(database) >= 1, "No tenantbackup session to terminate.");
        var result = await paused.ResumeAsync();

        AssertConnectionClosedByServer(result);
        Assert.Empty(Archives(folder.Path));
        Assert.Empty(Sidecars(folder.Path));
        Assert.Empty(Partials(folder.Path));
        Assert.Empty(IndexEntries(folder.Path));
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    [Theory]
    [InlineData("restore.locked")]
    [InlineData("backup.table#3")] // the safety backup's own session, and the restore's
    [InlineData("restore.staged")]
    [InlineData("restore.table#3")]
    public async Task TerminatedMidRestore_FailsWithConnectionFailed_RollsBack_AndRemovesItsSafetyBackup(string point)
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var connectionString = fixture.ConnectionStringFor(database);
        var backup = await new BackupEngine().BackupAsync(
            new() { ConnectionString = connectionString, Tenant = "2", Repository = folder.Path }, null, CancellationToken.None);
        await using var connection = await fixture.OpenConnectionAsync(database);
        await RestoreKillTests.ExecuteAsync(connection, "UPDATE customers SET name = name || ' (changed)' WHERE tenant_id = 2");
        var before = await TableDump.SnapshotAsync(connection);
        var index = await File.ReadAllBytesAsync(Path.Combine(folder.Path, "backups.json"));

        using var paused = await PausedCli.StartAsync(
            ["restore", backup.Id, "--connection", connectionString, "--repository", folder.Path, "--yes", "--json"], point);
        Assert.True(await TerminateToolSessionsAsync(database) >= 1, "No tenantbackup session to terminate.");
        var result = await paused.ResumeAsync();

        AssertConnectionClosedByServer(result);
        var after = await TableDump.SnapshotAsync(connection);
        Assert.True(TableDump.Fingerprint(before) == TableDump.Fingerprint(after), TableDump.DescribeDifferences(before, after));
        Assert.Equal(index, await File.ReadAllBytesAsync(Path.Combine(folder.Path, "backups.json")));
        Assert.Equal([backup.Path], Archives(folder.Path));
        Assert.Empty(Partials(folder.Path));
        AssertOnlyBackupFiles(folder.Path);
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task TerminatedBetweenTheFilesSwapAndCommit_PutsTheFilesBack_AndRemovesItsSafetyBackup()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var repository = Path.Combine(folder.Path, "repo");
        var files = Path.Combine(folder.Path, "tenant-2-files");
        RestoreKillTests.WriteFiles(files, new() { ["logo.txt"] = "v1" });
        var connectionString = fixture.ConnectionStringFor(database);
        var backup = await new BackupEngine().BackupAsync(
            new() { ConnectionString = connectionString, Tenant = "2", Repository = repository, IncludePaths = [files] },
            null,
            CancellationToken.None);
        await using var connection = await fixture.OpenConnectionAsync(database);
        await RestoreKillTests.ExecuteAsync(connection, "UPDATE customers SET name = name || ' (changed)' WHERE tenant_id = 2");
        RestoreKillTests.WriteFiles(files, new() { ["logo.txt"] = "v2", ["new.txt"] = "added" });
        var before = await TableDump.SnapshotAsync(connection);
        var filesBefore = RestoreKillTests.ReadFiles(files);
        var index = await File.ReadAllBytesAsync(Path.Combine(repository, "backups.json"));

        using var paused = await PausedCli.StartAsync(
            ["restore", backup.Id, "--connection", connectionString, "--repository", repository, "--yes", "--json"], "restore.swapped");
        Assert.True(await TerminateToolSessionsAsync(database) >= 1, "No tenantbackup session to terminate.");
        var result = await paused.ResumeAsync();

        AssertConnectionClosedByServer(result);
        var after = await TableDump.SnapshotAsync(connection);
        Assert.True(TableDump.Fingerprint(before) == TableDump.Fingerprint(after), TableDump.DescribeDifferences(before, after));
        Assert.Equal(filesBefore, RestoreKillTests.ReadFiles(files));
        var leftovers = Directory.GetFileSystemEntries(folder.Path)
            .Where(p => Path.GetFileName(p).StartsWith("tenant-2-files.", StringComparison.Ordinal));
        Assert.Empty(leftovers);
        Assert.Equal(index, await File.ReadAllBytesAsync(Path.Combine(repository, "backups.json")));
        AssertOnlyBackupFiles(repository);
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    private static void AssertConnectionClosedByServer(EndToEnd.CliResult result)
    {
        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Empty(result.Stdout);
        Assert.True(result.Stderr.Contains("tenantbackup: error ConnectionFailed:", StringComparison.Ordinal), result.Describe());
        Assert.True(
            result.Stderr.Contains(
                "the server ended the connection (terminating connection due to administrator command)", StringComparison.Ordinal),
            result.Describe());
    }

    /// <summary>Terminates every <c>tenantbackup</c> session in <paramref name="database"/>; returns how many.</summary>
    private async Task<int> TerminateToolSessionsAsync(string database)
    {
        await using var admin = new NpgsqlConnection(fixture.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            WITH tool AS MATERIALIZED (
                SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tenantbackup')
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int FROM tool
            """,
            admin)
        { Parameters = { new() { Value = database } } };
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
