using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Tests.Repository;

/// <summary>A temporary repository whose archives are written with the engine's ArchiveWriter, as a backup writes them.</summary>
internal sealed class SyncRepository : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private int _count;

    public string Root { get; } = Directory.CreateTempSubdirectory("tb-sync-").FullName;

    public BackupRepository Repository => BackupRepository.Open(Root);

    public string IndexPath => Path.Combine(Root, BackupRepository.IndexFileName);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Writes a sound archive with its sidecar; with <paramref name="indexed"/>, lists it in the index as a backup does.</summary>
    public async Task<IndexEntry> AddAsync(string tenant, bool indexed = true, Compression compression = Compression.Zstd)
    {
        var n = ++_count;
        var metadata = new BackupMetadata
        {
            Id = $"0190a1b2-c3d4-7e5f-8a9b-{n:D12}",
            Tenant = new BackupMetadata.TenantInfo { Column = "tenant_id", Value = tenant, Type = "integer" },
            Source = new BackupSource { Database = "app", Host = "db1" },
            CreatedAt = Start.AddMinutes(n),
            CreatedBy = "tester",
            Compression = CompressionStreams.Name(compression),
        };
        var name = $"tenant-{tenant}-{n:D2}{CompressionStreams.Extension(compression)}";
        var path = Path.Combine(Root, name);
        ArchiveSummary summary;
        var rows = string.Concat(Enumerable.Range(1, 10 * n).Select(i => $"{i}\t{tenant}\trow {i}\n"));
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            await using var writer = ArchiveWriter.Create(output, compression, level: null, metadata.CreatedAt);
            await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, metadata, default);
            var schema = new SchemaDocument
            {
                TenantColumn = "tenant_id",
                Tables = [new SchemaDocument.SchemaTable { Ordinal = 1, Schema = "public", Name = "orders" }],
            };
            await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, schema, default);
            await writer.WriteTableDataAsync(1, "public", "orders", new StringReader(rows), null, default);
            summary = await writer.CompleteAsync(metadata.Id, default);
        }

        await Sha256File.WriteAsync(path, summary.Sha256, default);
        var entry = IndexEntry.Describe(metadata, name, summary.CompressedSize, summary.Sha256, 1, 10 * n);
        if (indexed)
        {
            await Repository.UpdateIndexAsync(i => i.Backups.Add(entry), default);
        }

        return entry;
    }

    public string PathOf(IndexEntry entry) => Path.Combine(Root, entry.Path);

    public IndexEntry Indexed(string id) => Repository.ReadIndex().Backups.Single(e => e.Id == id);

    /// <summary>Every file of the folder with its bytes, to show that a dry run wrote nothing.</summary>
    public IReadOnlyDictionary<string, string> Snapshot() => Directory.GetFiles(Root)
        .Order(StringComparer.Ordinal)
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(File.ReadAllBytes(f)));
}
