using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;

namespace TenantBackup.Tests.Archive;

/// <summary>Writes a small, complete archive the way a backup does: two JSON entries, tables, files, manifest, sidecar.</summary>
internal static class SampleArchive
{
    public const string BackupId = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    public static readonly DateTimeOffset EntryTime = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    public sealed record Written(string Path, ArchiveSummary Summary, IReadOnlyList<TableData> Tables, string OrdersText, string FilesRoot);

    public static async Task<Written> WriteAsync(
        TempFolder temp,
        Compression compression,
        int chunkSize = 4096,
        bool withFiles = true,
        EncryptionKey? key = null,
        int encryptionChunkSize = 1024)
    {
        string path = temp.File(
            "tenant-42-20240506T070809Z-0190a1b2" + CompressionStreams.Extension(compression) + (key is null ? "" : ".tbenc"));
        string orders = TestData.CopyText(2000, seed: 11) + "9999\t42\tünïcødé 😀 ✓\t\\N\n";
        string filesRoot = CreateFiles(temp);
        var tables = new List<TableData>();
        ArchiveSummary summary;
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            await using ArchiveWriter writer = ArchiveWriter.Create(
                output, compression, level: null, EntryTime, chunkSize, key, encryptionChunkSize);
            await writer.WriteJsonEntryAsync(
                ArchiveLayout.TenantBackupJson, new { format = ArchiveLayout.FormatId, backupId = BackupId, tenant = "42" }, default);
            await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, new { tables = new[] { "public.orders", "public.empty" } }, default);
            tables.Add(await writer.WriteTableDataAsync(1, "public", "orders", new StringReader(orders), null, default));
            tables.Add(await writer.WriteTableDataAsync(2, "public", "empty", new StringReader(string.Empty), null, default));
            if (withFiles)
            {
                await writer.WriteFilesAsync(filesRoot, "files/", default);
            }

            summary = await writer.CompleteAsync(BackupId, default);
        }

        await Sha256File.WriteAsync(path, summary.Sha256, default);
        return new Written(path, summary, tables, orders, filesRoot);
    }

    public static string CreateFiles(TempFolder temp)
    {
        string root = temp.File("tenant-files");
        Directory.CreateDirectory(Path.Combine(root, "sub dir", "nested"));
        File.WriteAllText(Path.Combine(root, "a.txt"), "hello\n", new UTF8Encoding(false));
        File.WriteAllBytes(Path.Combine(root, "sub dir", "ü b.bin"), TestData.Random(100_000, seed: 12));
        File.WriteAllText(Path.Combine(root, "sub dir", "nested", "c.txt"), "nested\n", new UTF8Encoding(false));
        File.WriteAllBytes(Path.Combine(root, "empty.txt"), []);
        return root;
    }

    /// <summary>The <c>tar</c> options that read <paramref name="compression"/>.</summary>
    public static string[] TarFlags(Compression compression) => compression switch
    {
        Compression.Zstd => ["--zstd"],
        Compression.Gzip => ["-z"],
        _ => [],
    };
}
