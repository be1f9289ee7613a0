using System.IO.Compression;
using System.Security.Cryptography;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Archive;

public class StreamLayerTests
{
    [Theory]
    [InlineData(Compression.Zstd, ".tar.zst", "zstd")]
    [InlineData(Compression.Gzip, ".tar.gz", "gzip")]
    [InlineData(Compression.None, ".tar", "none")]
    public void ExtensionAndName(Compression compression, string extension, string name)
    {
        Assert.Equal(extension, CompressionStreams.Extension(compression));
        Assert.Equal(name, CompressionStreams.Name(compression));
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task OpenRead_DetectsWhatOpenWriteWrote(Compression compression)
    {
        byte[] data = TestData.Mixed(300_000, seed: 30);
        var file = new MemoryStream();
        await using (Stream writer = CompressionStreams.OpenWrite(new NonClosing(file), compression, level: null))
        {
            await writer.WriteAsync(data);
        }

        await using Stream reader = CompressionStreams.OpenRead(new MemoryStream(file.ToArray()), out Compression detected);
        var restored = new MemoryStream();
        await reader.CopyToAsync(restored);

        Assert.Equal(compression, detected);
        Assert.Equal(data, restored.ToArray());
    }

    [Fact]
    public async Task Gzip_IsReadableByTheGzipCli()
    {
        byte[] data = TestData.Mixed(300_000, seed: 31);
        var file = new MemoryStream();
        await using (Stream writer = CompressionStreams.OpenWrite(new NonClosing(file), Compression.Gzip, level: 1))
        {
            await writer.WriteAsync(data);
        }

        Assert.Equal(data, (await Cli.MustRunAsync("gzip", ["-d", "-c"], file.ToArray())).Stdout);
    }

    [Fact]
    public async Task HashingStream_HashesWritesAndReads()
    {
        byte[] data = TestData.Random(1_000_000, seed: 32);
        string expected = Convert.ToHexStringLower(SHA256.HashData(data));

        var sink = new MemoryStream();
        var writing = new HashingStream(sink, leaveOpen: true);
        writing.Write(data, 0, 1000);
        await writing.WriteAsync(data.AsMemory(1000));
        await writing.DisposeAsync();
        Assert.Equal((expected, data.LongLength), (writing.Sha256, writing.BytesHashed));
        Assert.Equal(data, sink.ToArray());

        await using var reading = new HashingStream(new MemoryStream(data));
        await reading.CopyToAsync(Stream.Null);
        Assert.Equal((expected, data.LongLength), (reading.Sha256, reading.BytesHashed));
    }

    /// <summary>Keeps the test's MemoryStream readable after the layer above is disposed.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
