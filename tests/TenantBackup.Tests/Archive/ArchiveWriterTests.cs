using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Archive;

public class ArchiveWriterTests
{
    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task TarListsEntriesInFormatOrder(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);

        Cli.Result list = await Cli.MustRunAsync("tar", [.. SampleArchive.TarFlags(compression), "-tf", archive.Path]);
        string[] names = list.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        string[] chunks = [.. archive.Tables[0].Entries];
        Assert.True(chunks.Length > 5);
        Assert.Equal(
            [
                "tenantbackup.json", "schema.json", .. chunks, "data/0002-public.empty.0001.copy",
                "files/a.txt", "files/empty.txt", "files/sub dir/nested/c.txt", "files/sub dir/ü b.bin", "manifest.json",
            ],
            names);
        Assert.Equal(chunks.Select((_, i) => $"data/0001-public.orders.{i + 1:D4}.copy"), chunks);
        Assert.Equal(names[..^1], archive.Summary.Manifest.Entries.Select(e => e.Name));
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task EntriesHaveDeterministicMetadata(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);

        Cli.Result list = await Cli.MustRunAsync(
            "tar", [.. SampleArchive.TarFlags(compression), "--utc", "--numeric-owner", "-tvf", archive.Path]);

        foreach (string line in list.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("-rw-r--r-- 0/0 ", line, StringComparison.Ordinal);
            Assert.Contains(" 2024-05-06 07:08 ", line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task TarExtractsWhatTheManifestAndSidecarDescribe(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);
        string extracted = temp.File("extracted");
        Directory.CreateDirectory(extracted);

        await Cli.MustRunAsync("tar", [.. SampleArchive.TarFlags(compression), "-xf", archive.Path, "-C", extracted]);

        // The sidecar: sha256sum accepts it, and it agrees with the summary and the file.
        Cli.Result check = await Cli.MustRunAsync(
            "sha256sum", ["-c", Path.GetFileName(archive.Path) + ".sha256"], workingDirectory: temp.Path);
        Assert.Contains(": OK", check.Text, StringComparison.Ordinal);
        byte[] file = await File.ReadAllBytesAsync(archive.Path);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), archive.Summary.Sha256);
        Assert.Equal(file.Length, archive.Summary.CompressedSize);

        // The manifest read back from disk equals the one returned, and describes every extracted file.
        var manifest = JsonSerializer.Deserialize<ArchiveManifest>(
            await File.ReadAllBytesAsync(Path.Combine(extracted, "manifest.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(ArchiveLayout.FormatId, manifest.Format);
        Assert.Equal(SampleArchive.BackupId, manifest.BackupId);
        foreach (ManifestEntry entry in manifest.Entries)
        {
            byte[] content = await File.ReadAllBytesAsync(Path.Combine(extracted, entry.Name));
            Assert.Equal(entry.Size, content.Length);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), entry.Sha256);
            if (entry.Name.StartsWith("data/", StringComparison.Ordinal))
            {
                Assert.Equal(entry.Rows, content.Count(b => b == (byte)'\n'));
            }
        }

        // The chunks, concatenated, are the COPY text; the files are the files.
        byte[] copy = [.. archive.Tables[0].Entries.SelectMany(name => File.ReadAllBytes(Path.Combine(extracted, name)))];
        Assert.Equal(Encoding.UTF8.GetBytes(archive.OrdersText), copy);
        foreach (string source in Directory.EnumerateFiles(archive.FilesRoot, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(archive.FilesRoot, source);
            Assert.Equal(await File.ReadAllBytesAsync(source), await File.ReadAllBytesAsync(Path.Combine(extracted, "files", relative)));
        }

        Assert.Equal(manifest.Entries.Count, manifest.Totals.Entries);
        Assert.Equal(2, manifest.Totals.Tables);
        Assert.Equal(2001, manifest.Totals.Rows);
        Assert.Equal(manifest.Entries.Sum(e => e.Size), manifest.Totals.Bytes);
    }

    [Fact]
    public async Task Chunks_HoldWholeRowsWithinTheChunkSize()
    {
        // Multi-byte characters and surrogate pairs throughout, so block and chunk cuts fall inside them.
        var text = new StringBuilder();
        for (int i = 0; i < 3000; i++)
        {
            text.Append(i).Append("\tñ😀€").Append('x', i % 50).Append("\t\\N\n");
        }

        (TableData table, Dictionary<string, byte[]> entries, _) = await WriteTableAsync(text.ToString(), chunkSize: 4096);

        Assert.True(table.Entries.Count > 10);
        foreach (string name in table.Entries)
        {
            byte[] chunk = entries[name];
            Assert.True(chunk.Length <= 4096, $"{name} has {chunk.Length} bytes");
            Assert.Equal((byte)'\n', chunk[^1]);
        }

        byte[] expected = Encoding.UTF8.GetBytes(text.ToString());
        Assert.Equal(expected, table.Entries.SelectMany(name => entries[name]).ToArray());
        Assert.Equal(3000, table.Rows);
        Assert.Equal(expected.Length, table.Bytes);
    }

    [Fact]
    public async Task RowLongerThanTheChunk_IsAChunkOfItsOwn()
    {
        string longRow = "2\t" + new string('L', 20_000) + "\n";
        string text = "1\tshort\n" + longRow + "3\tshort\n" + "4\tshort\n";

        (TableData table, Dictionary<string, byte[]> entries, ArchiveManifest manifest) = await WriteTableAsync(text, chunkSize: 4096);

        Assert.Equal(text, string.Concat(table.Entries.Select(name => Encoding.UTF8.GetString(entries[name]))));
        Assert.Contains(table.Entries, name => Encoding.UTF8.GetString(entries[name]) == longRow);
        Assert.All(table.Entries, name => Assert.Equal((byte)'\n', entries[name][^1]));
        Assert.Equal(4, table.Rows);
        Assert.Equal(4, manifest.Entries.Where(e => e.Table == "public.t").Sum(e => e.Rows));
    }

    [Fact]
    public async Task ZeroRows_IsOneEmptyChunk()
    {
        (TableData table, Dictionary<string, byte[]> entries, ArchiveManifest manifest) =
            await WriteTableAsync(string.Empty, chunkSize: 4096);

        Assert.Equal(["data/0007-public.t.0001.copy"], table.Entries);
        Assert.Empty(entries["data/0007-public.t.0001.copy"]);
        ManifestEntry entry = manifest.Entries.Single(e => e.Name == table.Entries[0]);
        Assert.Equal((0L, 0L, "public.t"), (entry.Size, entry.Rows!.Value, entry.Table));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([])), entry.Sha256);
    }

    [Fact]
    public async Task ProgressIsReportedAndAddsUp()
    {
        string text = TestData.CopyText(20_000, seed: 13);
        var reports = new List<(long Rows, long Bytes)>();

        (TableData table, _, _) = await WriteTableAsync(
            text, chunkSize: 64 * 1024, onProgress: (rows, bytes) => reports.Add((rows, bytes)));

        Assert.True(reports.Count > 3);
        Assert.Equal(reports.OrderBy(r => r.Rows).ThenBy(r => r.Bytes), reports);
        Assert.Equal((table.Rows, table.Bytes), reports[^1]);
        Assert.Equal(20_000, table.Rows);
    }

    [Theory]
    [InlineData("public", "orders", "data/0007-public.orders.0001.copy")]
    [InlineData("my schema", "we\"ird'ta.ble ü😀", "data/0007-my_schema.we_ird_ta_ble___.0001.copy")]
    [InlineData("Ünïcode-Schema_1", "Tab\tle", "data/0007-_n_code-Schema_1.Tab_le.0001.copy")]
    public async Task ChunkNamesAreSanitized(string schema, string table, string expected)
    {
        (TableData data, _, ArchiveManifest manifest) = await WriteTableAsync("1\n", chunkSize: 4096, schema, table);

        Assert.Equal([expected], data.Entries);
        Assert.Equal($"{schema}.{table}", manifest.Entries.Single(e => e.Name == expected).Table);
    }

    [Fact]
    public async Task LongNamesAreTruncated()
    {
        (TableData data, _, _) = await WriteTableAsync("1\n", chunkSize: 4096, new string('s', 63), new string('t', 63));

        Assert.Equal([$"data/0007-{new string('s', 30)}.{new string('t', 48)}.0001.copy"], data.Entries);
        Assert.True(data.Entries[0].Length <= 100);
    }

    [Fact]
    public async Task EntriesOutOfFormatOrder_AreRefused()
    {
        await using ArchiveWriter writer = ArchiveWriter.Create(new MemoryStream(), Compression.None, null, SampleArchive.EntryTime);

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => writer.WriteTableDataAsync(1, "s", "t", new StringReader(""), null, default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, 1, default));
        await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, 1, default);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync("id", default));
        await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteJsonEntryAsync("../x", 1, default));
    }

    [Theory]
    [InlineData("a.txt")]
    [InlineData("missing-target")]
    [InlineData("../..")]
    public async Task SymbolicLinkInIncludedFolder_IsInvalidArgumentNamingIt(string target)
    {
        using var temp = new TempFolder();
        string root = SampleArchive.CreateFiles(temp);
        string link = Path.Combine(root, "sub dir", "link.txt");
        File.CreateSymbolicLink(link, target);

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => WriteFilesAsync(root));

        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        Assert.Equal(link, ex.Target);
        Assert.Contains("symbolic link", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FifoInIncludedFolder_IsInvalidArgumentNamingIt()
    {
        using var temp = new TempFolder();
        string root = SampleArchive.CreateFiles(temp);
        string fifo = Path.Combine(root, "pipe");
        await Cli.MustRunAsync("mkfifo", [fifo]);

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => WriteFilesAsync(root));

        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        Assert.Equal(fifo, ex.Target);
        Assert.Contains("FIFO", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAFailure_TheWriterRefusesMoreWork()
    {
        using var temp = new TempFolder();
        await using ArchiveWriter writer = ArchiveWriter.Create(new MemoryStream(), Compression.Zstd, null, SampleArchive.EntryTime);
        await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, 1, default);
        await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, 1, default);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => writer.WriteTableDataAsync(1, "s", "t", new StringReader("1\n"), null, cancelled.Token));

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync("id", default));
    }

    private static async Task WriteFilesAsync(string root)
    {
        await using ArchiveWriter writer = ArchiveWriter.Create(new MemoryStream(), Compression.None, null, SampleArchive.EntryTime);
        await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, 1, default);
        await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, 1, default);
        await writer.WriteFilesAsync(root, "files/01/", default);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(64 * 1024)]
    public async Task UtfBytesAndTextGiveTheSameChunks(int chunkSize)
    {
        // Multi-byte characters, escapes, a row longer than the chunk, and no final newline.
        string copyText = string.Concat(Enumerable.Range(0, 3000).Select(i =>
            $"{i}\tStraße café 日本 🎉 {i}\t\\N\t{(i == 1500 ? new string('x', 10_000) : "a\\tb\\nc")}\n")) + "tail\twithout newline";

        var fromText = await WriteTableAsync(copyText, chunkSize);
        var fromBytes = await WriteTableAsync(copyText, chunkSize, asUtf8Bytes: true);

        Assert.Equal((fromText.Table.Rows, fromText.Table.Bytes), (fromBytes.Table.Rows, fromBytes.Table.Bytes));
        Assert.Equal(fromText.Entries.Keys, fromBytes.Entries.Keys);
        Assert.All(fromText.Entries, e => Assert.Equal(e.Value, fromBytes.Entries[e.Key]));
        Assert.True(fromText.Entries.Count > 2);
        Assert.Equal(
            Encoding.UTF8.GetBytes(copyText),
            fromBytes.Entries.Where(e => e.Key.StartsWith("data/", StringComparison.Ordinal)).SelectMany(e => e.Value));
    }

    /// <summary>Writes one table into an in-memory zstd archive and reads every entry back with <see cref="ArchiveReader"/>.</summary>
    private static async Task<(TableData Table, Dictionary<string, byte[]> Entries, ArchiveManifest Manifest)> WriteTableAsync(
        string copyText,
        int chunkSize,
        string schema = "public",
        string table = "t",
        Action<long, long>? onProgress = null,
        bool asUtf8Bytes = false)
    {
        var output = new MemoryStream();
        TableData data;
        await using (ArchiveWriter writer = ArchiveWriter.Create(output, Compression.Zstd, null, SampleArchive.EntryTime, chunkSize))
        {
            await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, new { backupId = "b" }, default);
            await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, new { }, default);
            data = asUtf8Bytes
                ? await writer.WriteTableDataAsync(
                    7, schema, table, new MemoryStream(Encoding.UTF8.GetBytes(copyText)), onProgress, default)
                : await writer.WriteTableDataAsync(7, schema, table, new StringReader(copyText), onProgress, default);
            await writer.CompleteAsync("b", default);
        }

        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        ArchiveManifest? manifest = null;
        await using ArchiveReader reader = ArchiveReader.Open(new MemoryStream(output.ToArray()));
        while (await reader.NextEntryAsync(default) is { } entry)
        {
            if (entry.Name == ArchiveLayout.ManifestJson)
            {
                manifest = await reader.ReadJsonAsync<ArchiveManifest>(entry, default);
                continue;
            }

            var content = new MemoryStream();
            await entry.Data.CopyToAsync(content);
            entries.Add(entry.Name, content.ToArray());
        }

        return (data, entries, manifest!);
    }
}
