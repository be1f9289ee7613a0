using TenantBackup.Engine.Repository;

namespace TenantBackup.Tests.Repository;

/// <summary>A repository of index entries and dummy archives with their <c>.sha256</c> files, made without a database.</summary>
internal static class PruneTestRepository
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 1, 2, 0, 0, TimeSpan.Zero);

    /// <summary>Adds each backup (taken <c>Day</c> days after <see cref="T0"/>) and a <c>notes.txt</c> that is not one.</summary>
    public static async Task<BackupRepository> CreateAsync(string root, params (string Id, string Tenant, int Day)[] backups)
    {
        var repository = BackupRepository.Open(root, create: true);
        foreach (var (id, tenant, day) in backups)
        {
            var file = $"tenant-{tenant}-{id}.tar.zst";
            await File.WriteAllTextAsync(Path.Combine(root, file), "archive " + id);
            await File.WriteAllTextAsync(Path.Combine(root, file + ".sha256"), new string('a', 64) + "  " + file + "\n");
            await repository.UpdateIndexAsync(
                i => i.Backups.Add(new IndexEntry
                {
                    Id = id,
                    Tenant = tenant,
                    TenantColumn = "tenant_id",
                    Path = file,
                    CreatedAt = T0.AddDays(day),
                    Source = new BackupSource { Database = "app" },
                    Sha256 = new string('a', 64),
                    Compression = "zstd",
                }),
                CancellationToken.None);
        }

        await File.WriteAllTextAsync(Path.Combine(root, "notes.txt"), "not a backup");
        return repository;
    }

    /// <summary>The file names in the folder, sorted.</summary>
    public static string[] Files(string root) =>
        Directory.GetFiles(root).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
}
