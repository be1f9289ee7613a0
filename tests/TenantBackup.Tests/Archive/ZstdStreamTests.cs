using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Archive;

public class ZstdStreamTests
{
    [Fact]
    public void LibzstdIsAvailable()
    {
        Assert.True(ZstdNative.IsAvailable, ZstdNative.UnavailableReason);
        Assert.Null(ZstdNative.UnavailableReason);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public async Task CompressedByUs_CliRestoresEveryByte(int? workers)
    {
        using var temp = new TempFolder();
        byte[] data = TestData.Mixed(6 * 1024 * 1024, seed: 1);
        string path = temp.File("data.zst");
        await using (var file = File.Create(path))
        await using (var zstd = new ZstdCompressStream(file, level: 3, workers: workers))
        {
            Assert.Equal(workers ?? Environment.ProcessorCount, zstd.Workers);
            // Uneven writes, sync and async, to cross libzstd's block and job boundaries at odd places.
            int offset = 0;
            for (int i = 0; offset < data.Length; i++)
            {
                int count = Math.Min(data.Length - offset, 100_000 + i * 7919);
                if (i % 2 == 0)
                {
                    zstd.Write(data, offset, count);
                }
                else
                {
                    await zstd.WriteAsync(data.AsMemory(offset, count));
                }

                offset += count;
            }
        }

        Cli.Result result = await Cli.MustRunAsync("zstd", ["-d", "-c", "-q", path]);
        Assert.True(data.AsSpan().SequenceEqual(result.Stdout));
        await Cli.MustRunAsync("zstd", ["-t", "-q", path]);
    }

    [Fact]
    public async Task MultiThreaded_LargeInput_SpansSeveralJobs()
    {
        byte[] data = TestData.Mixed(40 * 1024 * 1024, seed: 2);
        var compressed = new MemoryStream();
        await using (var zstd = new ZstdCompressStream(compressed, level: 1, leaveOpen: true, workers: 2))
        {
            Assert.Equal(2, zstd.Workers);
            await zstd.WriteAsync(data);
        }

        Cli.Result result = await Cli.MustRunAsync("zstd", ["-d", "-c", "-q"], compressed.ToArray());
        Assert.True(data.AsSpan().SequenceEqual(result.Stdout));
    }

    [Fact]
    public async Task CompressedByCli_WeRestoreEveryByte()
    {
        byte[] data = TestData.Mixed(5 * 1024 * 1024, seed: 3);
        Cli.Result compressed = await Cli.MustRunAsync("zstd", ["-3", "-T0", "-c", "-q"], data);

        byte[] restored = await DecompressAsync(compressed.Stdout);
        Assert.Equal(data, restored);
        Assert.Equal(data, DecompressSync(compressed.Stdout));
    }

    [Fact]
    public async Task ConcatenatedFrames_ReadAsOneStream()
    {
        byte[] first = TestData.Mixed(300_000, seed: 4);
        byte[] second = TestData.Mixed(200_000, seed: 5);
        byte[] a = (await Cli.MustRunAsync("zstd", ["-c", "-q"], first)).Stdout;
        byte[] b = (await Cli.MustRunAsync("zstd", ["-c", "-q"], second)).Stdout;
        var ours = new MemoryStream();
        await using (var zstd = new ZstdCompressStream(ours, leaveOpen: true))
        {
            await zstd.WriteAsync(first);
        }

        byte[] restored = await DecompressAsync([.. a, .. b, .. ours.ToArray(), .. b]);

        Assert.True(restored.AsSpan().SequenceEqual([.. first, .. second, .. first, .. second]));
    }

    [Fact]
    public async Task EmptyInput_MakesAValidFrame()
    {
        var compressed = new MemoryStream();
        await using (new ZstdCompressStream(compressed, leaveOpen: true))
        {
        }

        Assert.Empty((await Cli.MustRunAsync("zstd", ["-d", "-c", "-q"], compressed.ToArray())).Stdout);
        Assert.Empty(await DecompressAsync(compressed.ToArray()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(1000)]
    public async Task TruncatedFrame_IsArchiveCorrupt(int cut)
    {
        byte[] compressed = (await Cli.MustRunAsync("zstd", ["-c", "-q"], TestData.Mixed(500_000, seed: 6))).Stdout;

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecompressAsync(compressed[..^cut]));
        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Throws<TenantBackupException>(() => DecompressSync(compressed[..^cut]));
    }

    [Fact]
    public async Task Garbage_IsArchiveCorrupt()
    {
        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecompressAsync(TestData.Random(100_000, seed: 7)));
        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);

        // A valid magic followed by garbage.
        ex = await Assert.ThrowsAsync<TenantBackupException>(
            () => DecompressAsync([0x28, 0xB5, 0x2F, 0xFD, .. TestData.Random(100_000, seed: 8)]));
        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Fact]
    public async Task FlippedByte_IsArchiveCorrupt()
    {
        byte[] compressed = (await Cli.MustRunAsync("zstd", ["-c", "-q"], TestData.Mixed(500_000, seed: 9))).Stdout;
        compressed[compressed.Length / 2] ^= 0x55;

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecompressAsync(compressed));
        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Fact]
    public async Task FrameAskingForAHugeWindow_IsRefused()
    {
        // Through stdin the CLI does not know the size, so the frame keeps its 2^30 window: more memory than allowed.
        byte[] compressed = (await Cli.MustRunAsync("zstd", ["--long=30", "-c", "-q"], TestData.Mixed(100_000, seed: 10))).Stdout;

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecompressAsync(compressed));
        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Contains("memory", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void LevelOutOfRange_IsInvalidArgument()
    {
        var ex = Assert.Throws<TenantBackupException>(() => new ZstdCompressStream(new MemoryStream(), level: 99));
        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
    }

    private static async Task<byte[]> DecompressAsync(byte[] compressed)
    {
        await using var zstd = new ZstdDecompressStream(new MemoryStream(compressed));
        var result = new MemoryStream();
        var buffer = new byte[70_001];
        int read;
        while ((read = await zstd.ReadAsync(buffer)) > 0)
        {
            result.Write(buffer, 0, read);
        }

        return result.ToArray();
    }

    private static byte[] DecompressSync(byte[] compressed)
    {
        using var zstd = new ZstdDecompressStream(new MemoryStream(compressed));
        var result = new MemoryStream();
        zstd.CopyTo(result, 4096);
        return result.ToArray();
    }
}
