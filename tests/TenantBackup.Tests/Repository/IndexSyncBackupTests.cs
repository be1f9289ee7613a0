using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Backup;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Repository;

/// <summary>Sync against archives of real backups: an adopted orphan is the entry the backup itself wrote.</summary>
[Collection(PostgresCollection.Name)]
public sealed class IndexSyncBackupTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_real_backup_dropped_from_the_index_is_adopted_back_exactly_as_the_backup_listed_it()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var engine = new BackupEngine();
        var kept = await engine.BackupAsync(scratch.Request("1"), null, CancellationToken.None);
        var dropped = await engine.BackupAsync(scratch.Request("2") with { Message = "before the upgrade" }, null, CancellationToken.None);
        var repository = BackupRepository.Open(scratch.Repository);
        var original = repository.ReadIndex().Backups.Single(e => e.Id == dropped.Id);
        await repository.UpdateIndexAsync(i => i.Backups.RemoveAll(e => e.Id == dropped.Id), CancellationToken.None);

        var found = await IndexSync.RunAsync(
            new IndexSyncRequest { Repository = scratch.Repository, Apply = true }, CancellationToken.None);

        var adopted = Assert.Single(found);
        Assert.Equal((IndexDiscrepancyKind.Orphaned, dropped.Id, "2", true), (adopted.Kind, adopted.Id, adopted.Tenant, adopted.Applied));
        Assert.Equivalent(original, repository.ReadIndex().Backups.Single(e => e.Id == dropped.Id));
        Assert.Equivalent(new[] { kept, dropped }.Select(b => b.Id), repository.List().Select(b => b.Id));
        Assert.Empty(await IndexSync.RunAsync(new IndexSyncRequest { Repository = scratch.Repository }, CancellationToken.None));
    }
}
