using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Backup;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

[Collection(PostgresCollection.Name)]
public sealed class RestoreSmokeTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Replace_round_trip_gives_back_the_backup()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using var connection = await fixture.OpenConnectionAsync(scratch.Database);
        var before = await TableDump.SnapshotAsync(connection);
        var info = await new BackupEngine().BackupAsync(scratch.Request("1"), null, CancellationToken.None);
        await using (var cmd = new Npgsql.NpgsqlCommand("UPDATE customers SET name = 'changed' WHERE tenant_id = 1; DELETE FROM invoice_lines WHERE line_no = 1 AND invoice_id IN (SELECT i.id FROM invoices i JOIN projects p ON p.id = i.project_id WHERE p.tenant_id = 1); DELETE FROM audit_log WHERE tenant_id = 1", connection))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var result = await new RestoreEngine().RestoreAsync(
            new RestoreRequest { ConnectionString = scratch.ConnectionString, BackupId = info.Id, Repository = scratch.Repository }, null, CancellationToken.None);
        var after = await TableDump.SnapshotAsync(connection);
        Assert.True(TableDump.Fingerprint(before) == TableDump.Fingerprint(after), TableDump.DescribeDifferences(before, after));
        Assert.NotNull(result.PreRestoreBackupId);
    }

    [Fact]
    public async Task Clone_twice()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var info = await new BackupEngine().BackupAsync(scratch.Request("1"), null, CancellationToken.None);
        var request = new RestoreRequest { ConnectionString = scratch.ConnectionString, BackupId = info.Id, Repository = scratch.Repository, TargetTenant = "5" };
        var plan = await new RestoreEngine().PlanAsync(request, null, CancellationToken.None);
        Assert.True(plan.CanRestore, string.Join("\n", plan.Problems));
        var first = await new RestoreEngine().RestoreAsync(request, null, CancellationToken.None);
        var second = await new RestoreEngine().RestoreAsync(request with { TargetTenant = "6" }, null, CancellationToken.None);
        Assert.True(second.Remapped > 0);
        Assert.Equal(first.Inserted, second.Inserted);
    }
}
