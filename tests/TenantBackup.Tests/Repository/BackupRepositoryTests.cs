using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using Xunit;

namespace TenantBackup.Tests.Repository;

public sealed class BackupRepositoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tb-repo-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static IndexEntry Entry(string id, string tenant, int minute) => new()
    {
        Id = id,
        Tenant = tenant,
        TenantColumn = "tenant_id",
        Path = $"tenant-{tenant}-{id}.tar.zst",
        CreatedAt = new DateTimeOffset(2026, 1, 1, 0, minute, 0, TimeSpan.Zero),
        Source = new BackupSource { Database = "app" },
        Sha256 = new string('a', 64),
        Compression = "zstd",
    };

    [Fact]
    public async Task Entries_added_under_the_lock_are_listed_oldest_first_and_filtered_by_tenant()
    {
        var repository = BackupRepository.Open(_root);
        await repository.UpdateIndexAsync(
            i =>
            {
                i.Backups.Add(Entry("b", "7", 2));
                i.Backups.Add(Entry("a", "7", 1));
            },
            CancellationToken.None);
        await repository.UpdateIndexAsync(i => i.Backups.Add(Entry("c", "8", 0)), CancellationToken.None);

        Assert.Equal(["c", "a", "b"], repository.List().Select(b => b.Id));
        Assert.Equal(["a", "b"], repository.List("7").Select(b => b.Id));
        var info = repository.List("8").Single();
        Assert.Equal(Path.Combine(_root, "tenant-8-c.tar.zst"), info.Path);
        Assert.Equal(_root, info.Repository);
        Assert.Equal("app", info.Database);
        Assert.DoesNotContain(Directory.GetFiles(_root), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Concurrent_writers_in_separate_tasks_lose_no_entry()
    {
        var repository = BackupRepository.Open(_root);
        await Task.WhenAll(Enumerable.Range(0, 24).Select(n =>
            Task.Run(() => repository.UpdateIndexAsync(i => i.Backups.Add(Entry($"id{n:D2}", "1", n)), CancellationToken.None))));

        Assert.Equal(24, repository.List().Count);
    }

    [Fact]
    public async Task A_held_lock_makes_a_writer_time_out_with_IndexLocked_and_the_index_unchanged()
    {
        var repository = BackupRepository.Open(_root);
        await repository.UpdateIndexAsync(i => i.Backups.Add(Entry("a", "1", 0)), CancellationToken.None);
        var before = await File.ReadAllTextAsync(repository.IndexPath);

        using (new FileStream(repository.IndexPath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var error = await Assert.ThrowsAsync<TenantBackupException>(() =>
                repository.UpdateIndexAsync(
                    i => i.Backups.Add(Entry("b", "1", 1)), CancellationToken.None, TimeSpan.FromMilliseconds(300)));
            Assert.Equal(ErrorCode.IndexLocked, error.Code);
        }

        Assert.Equal(before, await File.ReadAllTextAsync(repository.IndexPath));
    }

    [Theory]
    [InlineData("{\"schemaVersion\": 1, \"backups\": [", "not valid JSON")]
    [InlineData("null", "empty")]
    [InlineData(
        "{\"schemaVersion\":1,\"backups\":[{\"id\":\"x\",\"path\":\"a.tar\"}," +
        "{\"id\":\"x\",\"path\":\"b.tar\"}]}",
        "appears 2 times")]
    [InlineData("{\"schemaVersion\":1,\"backups\":[{\"id\":\"x\",\"path\":\"../outside.tar\"}]}", "not a file inside the repository")]
    [InlineData("{\"schemaVersion\":1,\"backups\":[{\"id\":\"x\",\"path\":\"/etc/passwd\"}]}", "not a file inside the repository")]
    [InlineData("{\"schemaVersion\":9,\"backups\":[]}", "newer TenantBackup")]
    public async Task An_unusable_index_is_refused_with_IndexCorrupt_and_never_overwritten(string content, string expected)
    {
        var repository = BackupRepository.Open(_root);
        await File.WriteAllTextAsync(repository.IndexPath, content);

        var listError = Assert.Throws<TenantBackupException>(() => repository.List());
        var writeError = await Assert.ThrowsAsync<TenantBackupException>(() =>
            repository.UpdateIndexAsync(i => i.Backups.Add(Entry("new", "1", 0)), CancellationToken.None));

        Assert.Equal(ErrorCode.IndexCorrupt, listError.Code);
        Assert.Equal(ErrorCode.IndexCorrupt, writeError.Code);
        Assert.Contains(expected, listError.Message, StringComparison.Ordinal);
        Assert.Equal(content, await File.ReadAllTextAsync(repository.IndexPath));
    }

    [Fact]
    public void A_missing_folder_is_a_RepositoryError_unless_asked_to_create_it()
    {
        var missing = Path.Combine(_root, "nope");
        Assert.Equal(ErrorCode.RepositoryError, Assert.Throws<TenantBackupException>(() => BackupRepository.Open(missing)).Code);
        Assert.Empty(BackupRepository.Open(missing, create: true).List());
        Assert.True(Directory.Exists(missing));
    }

    [Fact]
    public async Task Fields_written_by_newer_versions_survive_a_rewrite()
    {
        var repository = BackupRepository.Open(_root);
        await File.WriteAllTextAsync(
            repository.IndexPath,
            "{\"schemaVersion\":1,\"future\":true,\"backups\":[{\"id\":\"x\",\"path\":\"a.tar\",\"restores\":[{\"at\":\"2026-01-01\"}]}]}");

        await repository.UpdateIndexAsync(i => i.Backups.Add(Entry("y", "1", 0)), CancellationToken.None);

        var text = await File.ReadAllTextAsync(repository.IndexPath);
        Assert.Contains("\"future\": true", text, StringComparison.Ordinal);
        Assert.Contains("\"restores\"", text, StringComparison.Ordinal);
    }
}
