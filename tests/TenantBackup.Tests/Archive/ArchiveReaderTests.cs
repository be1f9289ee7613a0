using System.Formats.Tar;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Archive;

public class ArchiveReaderTests
{
    [Theory]
    [InlineData("../x")]
    [InlineData("files/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("files\\..\\x")]
    [InlineData("C:/x")]
    [InlineData("files//x")]
    [InlineData("./x")]
    public async Task UnsafeNames_AreRefused(string name)
    {
        byte[] tar = Tar(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("x"u8.ToArray()) });

        TenantBackupException ex = await ReadAllExpectingFailureAsync(tar);

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Contains("unsafe name", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    [InlineData(TarEntryType.Directory)]
    [InlineData(TarEntryType.CharacterDevice)]
    [InlineData(TarEntryType.Fifo)]
    public async Task NonRegularEntries_AreRefused(TarEntryType type)
    {
        var entry = new PaxTarEntry(type, type == TarEntryType.Directory ? "files/dir/" : "files/special");
        if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink)
        {
            entry.LinkName = "/etc/passwd";
        }

        TenantBackupException ex = await ReadAllExpectingFailureAsync(Tar(Regular("tenantbackup.json", "{}"), entry));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Contains(type.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SymlinkInsideZstd_IsRefusedToo()
    {
        byte[] tar = Tar(
            Regular("tenantbackup.json", "{}"), new PaxTarEntry(TarEntryType.SymbolicLink, "files/x") { LinkName = "../../etc" });
        byte[] zstd = (await Cli.MustRunAsync("zstd", ["-c", "-q"], tar)).Stdout;

        TenantBackupException ex = await ReadAllExpectingFailureAsync(zstd);

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task ReadsWhatTheWriterWrote(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);

        await using ArchiveReader reader = ArchiveReader.Open(File.OpenRead(archive.Path));
        Assert.Equal(compression, reader.Compression);
        var names = new List<string>();
        ArchiveManifest? manifest = null;
        while (await reader.NextEntryAsync(default) is { } entry)
        {
            names.Add(entry.Name);
            if (entry.Name == ArchiveLayout.ManifestJson)
            {
                manifest = await reader.ReadJsonAsync<ArchiveManifest>(entry, default);
            }
        }

        Assert.Equal(archive.Summary.Manifest.Entries.Select(e => e.Name).Append(ArchiveLayout.ManifestJson), names);
        Assert.Equal(archive.Summary.Manifest.Totals.Rows, manifest!.Totals.Rows);
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task TruncatedArchive_IsArchiveCorruptNamingIt(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression, withFiles: false);
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);

        TenantBackupException ex = await ReadAllExpectingFailureAsync(bytes[..(bytes.Length * 3 / 5)], "tenant-42.tar");

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Contains("tenant-42.tar", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_IsArchiveCorrupt()
    {
        TenantBackupException ex = await ReadAllExpectingFailureAsync(TestData.Random(10_000, seed: 20));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Fact]
    public async Task InvalidJson_IsArchiveCorrupt()
    {
        await using ArchiveReader reader = ArchiveReader.Open(new MemoryStream(Tar(Regular("tenantbackup.json", "{ not json"))));
        ArchiveEntry entry = (await reader.NextEntryAsync(default))!;

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => reader.ReadJsonAsync<ArchiveManifest>(entry, default));
        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Fact]
    public async Task EntryData_IsGoneAfterMovingOn()
    {
        await using ArchiveReader reader = ArchiveReader.Open(new MemoryStream(Tar(Regular("a", "1"), Regular("b", "2"))));
        ArchiveEntry first = (await reader.NextEntryAsync(default))!;
        await reader.NextEntryAsync(default);

        await Assert.ThrowsAsync<InvalidOperationException>(() => first.Data.ReadAsync(new byte[1]).AsTask());
    }

    private static PaxTarEntry Regular(string name, string content) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    private static byte[] Tar(params TarEntry[] entries)
    {
        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (TarEntry entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }

    private static async Task<TenantBackupException> ReadAllExpectingFailureAsync(byte[] archive, string? name = null) =>
        await Assert.ThrowsAsync<TenantBackupException>(async () =>
        {
            await using ArchiveReader reader = ArchiveReader.Open(new MemoryStream(archive), name);
            while (await reader.NextEntryAsync(default) is { } entry)
            {
                await entry.Data.CopyToAsync(Stream.Null);
            }

            await reader.ReadToEndAsync(default);
        });
    [Fact]
    public void A_null_reference_in_our_own_code_is_a_bug_not_damage()
    {
        // Only faults thrown inside the tar and gzip readers count as damage; ours must surface as the bugs they are.
        Exception ours;
        try
        {
            _ = ((string)null!).Length;
            throw new InvalidOperationException("nothing was thrown");
        }
        catch (NullReferenceException e)
        {
            ours = e;
        }

        Assert.False(ArchiveReader.IsDamage(ours));
        Assert.False(ArchiveReader.IsDamage(new NullReferenceException()));
        Assert.True(ArchiveReader.IsDamage(new InvalidDataException()));
    }
}
