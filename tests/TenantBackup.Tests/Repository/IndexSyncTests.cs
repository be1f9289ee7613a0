using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Repository;
using Xunit;

namespace TenantBackup.Tests.Repository;

public sealed class IndexSyncTests : IDisposable
{
    private readonly SyncRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private Task<IReadOnlyList<IndexDiscrepancy>> SyncAsync(bool apply, string? tenant = null) =>
        IndexSync.RunAsync(new IndexSyncRequest { Repository = _repo.Root, Tenant = tenant, Apply = apply }, CancellationToken.None);

    [Fact]
    public async Task An_index_that_agrees_with_the_folder_reports_nothing_and_is_not_rewritten()
    {
        await _repo.AddAsync("7");
        await _repo.AddAsync("8", compression: Compression.Gzip);
        await _repo.AddAsync("8", compression: Compression.None);
        var before = _repo.Snapshot();

        Assert.Empty(await SyncAsync(apply: false));
        Assert.Empty(await SyncAsync(apply: true));
        Assert.Equal(before, _repo.Snapshot());
    }

    [Fact]
    public async Task A_missing_file_is_reported_then_marked_missing_and_a_second_sync_is_empty()
    {
        var kept = await _repo.AddAsync("7");
        var gone = await _repo.AddAsync("7");
        File.Delete(_repo.PathOf(gone));
        File.Delete(Sha256File.PathFor(_repo.PathOf(gone)));
        var before = _repo.Snapshot();

        var found = Assert.Single(await SyncAsync(apply: false));
        Assert.Equal(IndexDiscrepancyKind.Missing, found.Kind);
        Assert.Equal(gone.Id, found.Id);
        Assert.Equal("7", found.Tenant);
        Assert.Equal(_repo.PathOf(gone), found.Path);
        Assert.False(found.Applied);
        Assert.Equal(before, _repo.Snapshot());
        Assert.Equal(BackupStatus.Available, _repo.Indexed(gone.Id).Status);

        var repaired = Assert.Single(await SyncAsync(apply: true));
        Assert.True(repaired.Applied);
        Assert.Equal(BackupStatus.Missing, _repo.Indexed(gone.Id).Status);
        Assert.Equal(BackupStatus.Available, _repo.Indexed(kept.Id).Status);
        Assert.Empty(await SyncAsync(apply: false));
    }

    [Fact]
    public async Task An_orphan_is_adopted_from_its_own_tenantbackup_json_as_the_backup_would_have_listed_it()
    {
        await _repo.AddAsync("7");
        var orphan = await _repo.AddAsync("9", indexed: false, compression: Compression.Gzip);
        File.WriteAllText(Path.Combine(_repo.Root, "tenant-9-x.tar.zst.partial"), "unfinished");
        File.WriteAllText(Path.Combine(_repo.Root, "notes.txt"), "not an archive");
        var before = _repo.Snapshot();

        var found = Assert.Single(await SyncAsync(apply: false));
        Assert.Equal(IndexDiscrepancyKind.Orphaned, found.Kind);
        Assert.Equal(orphan.Id, found.Id);
        Assert.Equal("9", found.Tenant);
        Assert.Equal(before, _repo.Snapshot());

        Assert.True(Assert.Single(await SyncAsync(apply: true)).Applied);
        var adopted = _repo.Indexed(orphan.Id);
        Assert.Equivalent(orphan, adopted);
        Assert.Empty(await SyncAsync(apply: true));
    }

    [Fact]
    public async Task An_orphan_that_fails_verification_is_reported_and_not_adopted()
    {
        var orphan = await _repo.AddAsync("9", indexed: false);
        var bytes = File.ReadAllBytes(_repo.PathOf(orphan));
        File.WriteAllBytes(_repo.PathOf(orphan), bytes[..(bytes.Length / 2)]);

        foreach (var apply in new[] { false, true })
        {
            var found = Assert.Single(await SyncAsync(apply));
            Assert.Equal(IndexDiscrepancyKind.Orphaned, found.Kind);
            Assert.False(found.Applied);
            Assert.StartsWith("none: not adopted", found.Action, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(_repo.IndexPath));
    }

    [Fact]
    public async Task An_orphan_holding_a_backup_the_index_lists_elsewhere_is_not_adopted_twice()
    {
        var entry = await _repo.AddAsync("7");
        File.Copy(_repo.PathOf(entry), Path.Combine(_repo.Root, "copy.tar.zst"));

        var found = Assert.Single(await SyncAsync(apply: true));
        Assert.Equal(IndexDiscrepancyKind.Orphaned, found.Kind);
        Assert.False(found.Applied);
        Assert.Contains("which the index lists", found.Action, StringComparison.Ordinal);
        Assert.Single(_repo.Repository.ReadIndex().Backups);
    }

    [Fact]
    public async Task A_file_that_is_back_is_marked_available_again()
    {
        var entry = await _repo.AddAsync("7");
        await _repo.Repository.UpdateIndexAsync(i => i.Backups[0].Status = BackupStatus.Missing, default);

        var found = Assert.Single(await SyncAsync(apply: false));
        Assert.Equal(IndexDiscrepancyKind.Mismatched, found.Kind);
        Assert.Contains("marks it missing", found.Detail, StringComparison.Ordinal);

        Assert.True(Assert.Single(await SyncAsync(apply: true)).Applied);
        Assert.Equal(BackupStatus.Available, _repo.Indexed(entry.Id).Status);
        Assert.Empty(await SyncAsync(apply: false));
    }

    [Fact]
    public async Task A_size_and_hash_recorded_wrongly_are_taken_from_the_verified_file()
    {
        var entry = await _repo.AddAsync("7");
        await _repo.Repository.UpdateIndexAsync(i => { i.Backups[0].Size = 1; i.Backups[0].Sha256 = new string('0', 64); }, default);
        var before = _repo.Snapshot();

        var found = Assert.Single(await SyncAsync(apply: false));
        Assert.Equal(IndexDiscrepancyKind.Mismatched, found.Kind);
        Assert.Contains("the index records 1", found.Detail, StringComparison.Ordinal);
        Assert.Contains("records SHA-256", found.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _repo.Snapshot());

        await SyncAsync(apply: true);
        var fixedEntry = _repo.Indexed(entry.Id);
        Assert.Equal(entry.Size, fixedEntry.Size);
        Assert.Equal(entry.Sha256, fixedEntry.Sha256);
        Assert.Equal(BackupStatus.Available, fixedEntry.Status);
        Assert.Empty(await SyncAsync(apply: false));
    }

    [Fact]
    public async Task A_file_that_changed_and_no_longer_verifies_is_marked_corrupt()
    {
        var entry = await _repo.AddAsync("7");
        await using (var file = new FileStream(_repo.PathOf(entry), FileMode.Append))
        {
            file.Write("garbage"u8);
        }

        var found = Assert.Single(await SyncAsync(apply: false));
        Assert.Equal(IndexDiscrepancyKind.Mismatched, found.Kind);
        Assert.StartsWith("mark it corrupt", found.Action, StringComparison.Ordinal);

        await SyncAsync(apply: true);
        Assert.Equal(BackupStatus.Corrupt, _repo.Indexed(entry.Id).Status);
        Assert.Equal(entry.Size, _repo.Indexed(entry.Id).Size);
        Assert.Empty(await SyncAsync(apply: false));
    }

    [Fact]
    public async Task The_tenant_filter_reports_and_repairs_that_tenant_only()
    {
        var gone7 = await _repo.AddAsync("7");
        var gone8 = await _repo.AddAsync("8");
        var orphan7 = await _repo.AddAsync("7", indexed: false);
        var orphan8 = await _repo.AddAsync("8", indexed: false);
        File.Delete(_repo.PathOf(gone7));
        File.Delete(_repo.PathOf(gone8));

        var found = await SyncAsync(apply: true, tenant: "8");
        Assert.Equal(
            [(IndexDiscrepancyKind.Missing, gone8.Id), (IndexDiscrepancyKind.Orphaned, orphan8.Id)], found.Select(d => (d.Kind, d.Id)));
        Assert.Equal(BackupStatus.Available, _repo.Indexed(gone7.Id).Status);
        Assert.DoesNotContain(_repo.Repository.ReadIndex().Backups, e => e.Id == orphan7.Id);

        Assert.Empty(await SyncAsync(apply: false, tenant: "8"));
        Assert.Equal(2, (await SyncAsync(apply: false)).Count);
    }

    [Theory]
    [InlineData("{\"schemaVersion\": 1, \"backups\": [")]
    [InlineData("not json at all")]
    public async Task An_unreadable_index_is_IndexCorrupt_without_Apply_and_set_aside_and_rebuilt_with_it(string content)
    {
        var first = await _repo.AddAsync("7");
        var second = await _repo.AddAsync("8", compression: Compression.Gzip);
        await File.WriteAllTextAsync(_repo.IndexPath, content);
        var before = _repo.Snapshot();

        var error = await Assert.ThrowsAsync<TenantBackupException>(() => SyncAsync(apply: false));
        Assert.Equal(ErrorCode.IndexCorrupt, error.Code);
        Assert.Contains("Sync-BackupIndex -Apply", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, _repo.Snapshot());

        var found = await SyncAsync(apply: true, tenant: "7");
        var corrupt = found[0];
        Assert.Equal(IndexDiscrepancyKind.IndexCorrupt, corrupt.Kind);
        Assert.True(corrupt.Applied);
        var aside = Assert.Single(Directory.GetFiles(_repo.Root, "backups.json.corrupt-*"));
        Assert.Contains(aside, corrupt.Action, StringComparison.Ordinal);
        Assert.Equal(content, await File.ReadAllTextAsync(aside));
        Assert.Equal(
            [first.Id, second.Id],
            found.Skip(1).Where(d => d.Applied && d.Kind == IndexDiscrepancyKind.Orphaned).Select(d => d.Id));
        Assert.Equivalent(new[] { first, second }, _repo.Repository.ReadIndex().Backups);
        Assert.Empty(await SyncAsync(apply: false));
    }

    [Fact]
    public async Task An_index_of_a_newer_version_is_never_rebuilt()
    {
        await _repo.AddAsync("7");
        await File.WriteAllTextAsync(_repo.IndexPath, "{\"schemaVersion\":9,\"backups\":[]}");
        var before = _repo.Snapshot();

        var error = await Assert.ThrowsAsync<TenantBackupException>(() => SyncAsync(apply: true));
        Assert.Equal(ErrorCode.IndexCorrupt, error.Code);
        Assert.Equal(before, _repo.Snapshot());
    }

    [Fact]
    public async Task A_repository_that_does_not_exist_is_a_RepositoryError()
    {
        var error = await Assert.ThrowsAsync<TenantBackupException>(() =>
            IndexSync.RunAsync(
                new IndexSyncRequest { Repository = Path.Combine(_repo.Root, "nope"), Apply = true }, CancellationToken.None));
        Assert.Equal(ErrorCode.RepositoryError, error.Code);
        Assert.False(Directory.Exists(Path.Combine(_repo.Root, "nope")));
    }
}
