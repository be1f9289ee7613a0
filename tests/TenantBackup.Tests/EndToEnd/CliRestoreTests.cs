using System.Text.Json;
using Npgsql;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>The built <c>tenantbackup</c> restoring backups it made itself: what operators and scripts run.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliRestoreTests(PostgresFixture fixture)
{
    [Fact]
    public async Task RestoreById_GivesBackTheTenantAsBackedUp_AndUndoReturnsTheChangedState()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        await using var connection = await fixture.OpenConnectionAsync(database);
        var id = await BackupAsync(database, folder.Path, "2");
        var backedUp = await TableDump.SnapshotAsync(connection);
        await ExecuteAsync(
            connection, "UPDATE customers SET name = name || ' (edited)' WHERE tenant_id = 2; DELETE FROM audit_log WHERE tenant_id = 2");
        var edited = await TableDump.SnapshotAsync(connection);

        var restore = await CliProcess.RunAsync(
            ["restore", id, "--connection", fixture.ConnectionStringFor(database), "--repository", folder.Path, "--yes", "--json"]);

        Assert.True(restore.ExitCode == 0, restore.Describe());
        var restored = await TableDump.SnapshotAsync(connection);
        Assert.True(TableDump.Fingerprint(backedUp) == TableDump.Fingerprint(restored), TableDump.DescribeDifferences(backedUp, restored));
        string undoId;
        using (var json = ParseStdout(restore))
        {
            Assert.Equal(id, json.RootElement.GetProperty("backupId").GetString());
            Assert.Equal("2", json.RootElement.GetProperty("targetTenant").GetString());
            Assert.Equal(
                TestSchema.TotalRows(2) - 1,
                json.RootElement.GetProperty("inserted").GetInt64()); // the root row is updated, not inserted
            undoId = json.RootElement.GetProperty("preRestoreBackupId").GetString()!;
        }

        var list = await CliProcess.RunAsync(["list", "--repository", folder.Path, "--tenant", "2", "--json"]);
        using (var listJson = ParseStdout(list))
        {
            var restoredEntry = listJson.RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == id);
            Assert.Equal(1, restoredEntry.GetProperty("restoreCount").GetInt32());
            Assert.Equal(JsonValueKind.String, restoredEntry.GetProperty("lastRestoredAt").ValueKind);
        }

        var undo = await CliProcess.RunAsync(
        [
            "restore", undoId, "--connection", fixture.ConnectionStringFor(database), "--repository", folder.Path,
            "--yes", "--no-pre-backup"
        ]);

        Assert.True(undo.ExitCode == 0, undo.Describe());
        var undone = await TableDump.SnapshotAsync(connection);
        Assert.True(TableDump.Fingerprint(edited) == TableDump.Fingerprint(undone), TableDump.DescribeDifferences(edited, undone));
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task DryRunJson_PrintsThePlanForAClone_AndChangesNothing()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        await using var connection = await fixture.OpenConnectionAsync(database);
        var id = await BackupAsync(database, folder.Path, "3");
        var before = await TableDump.FingerprintAsync(connection);
        var index = await File.ReadAllBytesAsync(Path.Combine(folder.Path, "backups.json"));

        var plan = await CliProcess.RunAsync(
        [
            "restore", id, "--connection", fixture.ConnectionStringFor(database), "--repository", folder.Path,
            "--target-tenant", "77", "--dry-run", "--json"
        ]);

        Assert.True(plan.ExitCode == 0, plan.Describe());
        using var json = ParseStdout(plan);
        Assert.True(json.RootElement.GetProperty("canRestore").GetBoolean());
        Assert.Equal("77", json.RootElement.GetProperty("targetTenant").GetString());
        Assert.Equal(
            TestSchema.TotalRows(3), json.RootElement.GetProperty("tables").EnumerateArray().Sum(t => t.GetProperty("insert").GetInt64()));
        Assert.Contains(
            json.RootElement.GetProperty("collisions").EnumerateArray(), c => c.GetProperty("resolution").GetString() == "remap");
        Assert.Equal(before, await TableDump.FingerprintAsync(connection));
        Assert.Equal(index, await File.ReadAllBytesAsync(Path.Combine(folder.Path, "backups.json")));
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task RefusedRestores_ExitWithTheDocumentedCodes_AndChangeNothing()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        await using var connection = await fixture.OpenConnectionAsync(database);
        var id = await BackupAsync(database, folder.Path, "1");
        var archive = Archives(folder.Path).Single();
        var before = await TableDump.FingerprintAsync(connection);
        string[] common = ["--connection", fixture.ConnectionStringFor(database), "--repository", folder.Path, "--yes"];

        var collision = await CliProcess.RunAsync(["restore", id, .. common, "--target-tenant", "88", "--key-collision", "fail"]);
        Assert.True(collision.ExitCode == 5, collision.Describe());
        Assert.Contains("KeyCollision", collision.Stderr, StringComparison.Ordinal);

        await ExecuteAsync(connection, "SELECT pg_advisory_lock_shared(hashtext('tenantbackup'), hashtext('tenant_id:1'))");
        var locked = await CliProcess.RunAsync(["restore", id, .. common, "--lock-timeout", "1s"]);
        Assert.True(locked.ExitCode == 4, locked.Describe());
        await ExecuteAsync(connection, "SELECT pg_advisory_unlock_all()");

        var copy = Path.Combine(folder.Path, "damaged.tar.zst");
        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(copy, bytes);
        var corrupt = await CliProcess.RunAsync(["restore", copy, .. common]);
        Assert.True(corrupt.ExitCode == 3, corrupt.Describe());

        Assert.Equal(before, await TableDump.FingerprintAsync(connection));
        Assert.Single(IndexEntries(folder.Path));
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task Restore_FinishesWithInlineSocketCompletions()
    {
        // Where socket completions run on the event thread, a blocking end of COPY waited for itself (a stall until the
        // command timeout). Each restore ends one COPY per table; three restores give the stall many chances.
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        await using var connection = await fixture.OpenConnectionAsync(database);
        var id = await BackupAsync(database, folder.Path, "1");
        var before = await TableDump.SnapshotAsync(connection);
        var environment = new Dictionary<string, string?> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" };

        for (var i = 0; i < 3; i++)
        {
            var restore = await CliProcess.RunAsync(
                [
                    "restore", id, "--connection", fixture.ConnectionStringFor(database), "--repository", folder.Path,
                    "--yes", "--no-pre-backup",
                ],
                environment,
                TimeSpan.FromSeconds(25));
            Assert.True(restore.ExitCode == 0, restore.Describe());
        }

        var after = await TableDump.SnapshotAsync(connection);
        Assert.True(TableDump.Fingerprint(before) == TableDump.Fingerprint(after), TableDump.DescribeDifferences(before, after));
        await fixture.DropDatabaseAsync(database);
    }

    private async Task<string> BackupAsync(string database, string repository, string tenant)
    {
        var backup = await CliProcess.RunAsync(
            ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", tenant, "--repository", repository, "--json"]);
        Assert.True(backup.ExitCode == 0, backup.Describe());
        using var json = ParseStdout(backup);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
