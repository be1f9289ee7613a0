using System.Formats.Tar;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// The guard that refuses huge tar metadata headers must follow entry sizes exactly as TarReader does: a file whose
/// content happens to look like a huge PAX header is data, whether its size is in the ustar field or in a PAX record.
/// </summary>
public sealed class TarMetadataGuardTests
{
    [Theory]
    [InlineData("size in the ustar field")]
    [InlineData("size in a PAX record, ustar field 0")]
    public async Task Content_that_looks_like_a_huge_PAX_header_is_read_as_data(string sizing)
    {
        byte[] lookalike = HeaderBlock("PaxHeaders/evil", TarEntryType.ExtendedAttributes, 1L << 30);
        byte[] tar = sizing == "size in the ustar field" ? Plain(lookalike) : PaxSized(lookalike);

        await using var reader = ArchiveReader.Open(new MemoryStream(tar), "lookalike.tar");
        var entry = await reader.NextEntryAsync(default);
        using var data = new MemoryStream();
        await entry!.Data.CopyToAsync(data);

        Assert.Equal("files/01/lookalike.bin", entry.Name);
        Assert.Equal(lookalike, data.ToArray());
        Assert.Null(await reader.NextEntryAsync(default));
    }

    [Fact]
    public async Task The_same_block_where_a_header_belongs_is_refused_before_anything_is_allocated()
    {
        byte[] tar = [.. HeaderBlock("PaxHeaders/evil", TarEntryType.ExtendedAttributes, 1L << 30), .. new byte[1024]];
        long before = GC.GetTotalAllocatedBytes();

        await using var reader = ArchiveReader.Open(new MemoryStream(tar), "bomb.tar");
        var error = await Assert.ThrowsAsync<TenantBackupException>(() => reader.NextEntryAsync(default));

        Assert.Equal(ErrorCode.ArchiveCorrupt, error.Code);
        Assert.Contains("1073741824", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 16 * 1024 * 1024);
    }

    private static byte[] Plain(byte[] content)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var entry = new UstarTarEntry(TarEntryType.RegularFile, "files/01/lookalike.bin") { DataStream = new MemoryStream(content) };
            writer.WriteEntry(entry);
        }

        return tar.ToArray();
    }

    // A PAX header whose only record is the size, then a ustar header saying 0, then the content: TarReader trusts the record.
    private static byte[] PaxSized(byte[] content)
    {
        byte[] record = Encoding.ASCII.GetBytes($"12 size={content.Length}\n");
        Assert.Equal(12, record.Length);
        byte[] pax = HeaderBlock("PaxHeaders/lookalike.bin", TarEntryType.ExtendedAttributes, record.Length);
        byte[] header = HeaderBlock("files/01/lookalike.bin", TarEntryType.RegularFile, 0);
        return [.. pax, .. record, .. new byte[RawTar.Block - record.Length], .. header, .. content, .. new byte[2 * RawTar.Block]];
    }

    private static byte[] HeaderBlock(string name, TarEntryType type, long size)
    {
        byte[] block = new byte[RawTar.Block];
        Encoding.ASCII.GetBytes(name).CopyTo(block, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(block, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(block, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(block, 116);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(block, 136);
        block[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(block, 257);
        return RawTar.WithSize(new RawTar.Entry(name, block, 0), size).Bytes;
    }
}
