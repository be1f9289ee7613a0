using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Archive.Encryption;
using Xunit;

namespace TenantBackup.Tests.Archive;

/// <summary>The encryption envelope on its own: round trips, keys, the header, and memory that stays bounded.</summary>
public class EncryptionStreamTests
{
    private const int Chunk = 1024;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk - 1)]
    [InlineData(Chunk)]
    [InlineData(Chunk + 1)]
    [InlineData(3 * Chunk)]
    [InlineData(3 * Chunk + 17)]
    public async Task RoundTrip_AnyLength(int length)
    {
        using var key = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] data = TestData.Random(length, seed: length);

        byte[] sealedBytes = await EncryptAsync(data, key);
        int chunks = Math.Max(1, (length + Chunk - 1) / Chunk); // a last chunk may be full: it is sealed as final when the stream ends

        Assert.Equal(EnvelopeHeader.Size + length + chunks * EnvelopeHeader.TagSize, sealedBytes.Length);
        Assert.Equal(data, await DecryptAsync(sealedBytes, key));
        Assert.Equal(data, Decrypt(sealedBytes, key)); // the synchronous path too
    }

    [Fact]
    public async Task WrongKey_IsDecryptionFailed_NamingTheKeyId()
    {
        using var right = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        using var wrong = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] sealedBytes = await EncryptAsync(TestData.Random(5000, seed: 1), right);
        string keyId = EnvelopeHeader.Parse(sealedBytes, "a").KeyId;

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecryptAsync(sealedBytes, wrong));

        Assert.Equal(ErrorCode.DecryptionFailed, ex.Code);
        Assert.Contains(keyId, ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not match", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKey_IsDecryptionFailed()
    {
        using var key = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] sealedBytes = await EncryptAsync([1, 2, 3], key);

        var ex = Assert.Throws<TenantBackupException>(() => ArchiveEncryption.OpenRead(new MemoryStream(sealedBytes), null, "a", out _));

        Assert.Equal(ErrorCode.DecryptionFailed, ex.Code);
        Assert.Contains("no key was given", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passphrase_StretchesWithPbkdf2AndARandomSalt()
    {
        using var passphrase = EncryptionKey.FromPassphrase("correct horse battery staple");
        byte[] data = TestData.Random(3000, seed: 2);

        byte[] first = await EncryptAsync(data, passphrase);
        byte[] second = await EncryptAsync(data, passphrase);

        Assert.Equal(EnvelopeHeader.KdfPbkdf2Sha256, first[10]);
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(first.AsSpan(16)) >= 600_000);
        Assert.NotEqual(first.AsSpan(20, 16).ToArray(), second.AsSpan(20, 16).ToArray()); // salt
        Assert.Contains(first.AsSpan(20, 16).ToArray(), b => b != 0);
        using var again = EncryptionKey.FromPassphrase("correct horse battery staple");
        Assert.Equal(data, await DecryptAsync(first, again));

        using var wrong = EncryptionKey.FromPassphrase("correct horse battery stapler");
        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecryptAsync(first, wrong));
        Assert.Equal(ErrorCode.DecryptionFailed, ex.Code);
    }

    [Fact]
    public async Task KeyFile_TakesRawBytesOrBase64_AndTheKeyIdIsStable()
    {
        using var temp = new TempFolder();
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        File.WriteAllBytes(temp.File("raw.key"), secret);
        File.WriteAllText(temp.File("b64.key"), Convert.ToBase64String(secret) + "\n");
        File.WriteAllText(temp.File("bad.key"), "not a key");
        using var raw = EncryptionKey.FromKeyFile(temp.File("raw.key"));
        using var text = EncryptionKey.FromKeyFile(temp.File("b64.key"));

        byte[] sealedBytes = await EncryptAsync([42], raw);

        Assert.Equal([42], await DecryptAsync(sealedBytes, text));
        Assert.Equal(EnvelopeHeader.Parse(sealedBytes, "a").KeyId, EnvelopeHeader.Parse(await EncryptAsync([], text), "b").KeyId);
        Assert.DoesNotContain(Convert.ToHexStringLower(secret), EnvelopeHeader.Parse(sealedBytes, "a").KeyId, StringComparison.Ordinal);
        Assert.Equal(-1, sealedBytes.AsSpan().IndexOf(secret));
        foreach (string unusable in new[] { "bad.key", "none.key" })
        {
            var ex = Assert.Throws<TenantBackupException>(() => EncryptionKey.FromKeyFile(temp.File(unusable)));
            Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        }
    }

    [Fact]
    public async Task PassphraseOnAKeyFileArchive_IsDecryptionFailed()
    {
        using var key = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        using var passphrase = EncryptionKey.FromPassphrase("x");
        byte[] sealedBytes = await EncryptAsync([1], key);

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecryptAsync(sealedBytes, passphrase));

        Assert.Equal(ErrorCode.DecryptionFailed, ex.Code);
    }

    [Fact]
    public async Task AlteredHeader_WithTheRightKey_IsCorrupt()
    {
        using var key = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] sealedBytes = await EncryptAsync(TestData.Random(100, seed: 3), key);
        sealedBytes[53] ^= 1; // nonce prefix: authenticated by the wrapped data key

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => DecryptAsync(sealedBytes, key));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Fact]
    public void HostileChunkSize_IsRefusedBeforeAnyAllocation()
    {
        using var key = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] header = EnvelopeHeader.Create(key, Chunk, out byte[] dataKey).Bytes.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), int.MaxValue);

        var ex = Assert.Throws<TenantBackupException>(() => EnvelopeHeader.Parse(header, "a"));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Equal(32, dataKey.Length);
    }

    /// <summary>
    /// 256 MiB pass through the encrypting and the decrypting layer on one thread, a chunk at a time, through a queue
    /// that never holds more than a few chunks; what the thread allocates stays far below the data's size.
    /// </summary>
    [Fact]
    public void LargeStream_IsEncryptedAndDecryptedInBoundedMemory()
    {
        const long Total = 256L * 1024 * 1024;
        const int ChunkSize = EnvelopeHeader.DefaultChunkSize;
        using var key = EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        byte[] block = TestData.Random(64 * 1024, seed: 4);
        var queue = new FifoStream();
        using var inHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var outHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var plain = new byte[ChunkSize];
        long before = GC.GetAllocatedBytesForCurrentThread();

        Stream encrypting = ArchiveEncryption.OpenWrite(queue, key, out _, ChunkSize);
        Stream? decrypting = null;
        long decrypted = 0;
        for (long written = 0; written < Total; written += block.Length)
        {
            encrypting.Write(block);
            inHash.AppendData(block);

            // Read only what cannot be the last chunk, so the decrypting layer never mistakes an empty queue for the end.
            while (queue.Length > 3 * (ChunkSize + EnvelopeHeader.TagSize))
            {
                decrypting ??= ArchiveEncryption.OpenRead(queue, key, "large", out _);
                decrypting.ReadExactly(plain);
                outHash.AppendData(plain);
                decrypted += plain.Length;
                Assert.True(queue.Length < 5 * ChunkSize, $"the queue holds {queue.Length} bytes");
            }
        }

        encrypting.Dispose();
        int read;
        while ((read = decrypting!.Read(plain)) > 0)
        {
            outHash.AppendData(plain, 0, read);
            decrypted += read;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Total, decrypted);
        Assert.Equal(inHash.GetHashAndReset(), outHash.GetHashAndReset());
        Assert.True(allocated < 32L * 1024 * 1024, $"{allocated} bytes allocated to stream {Total}");
    }

    internal static async Task<byte[]> EncryptAsync(byte[] data, EncryptionKey key, int chunkSize = Chunk)
    {
        var output = new MemoryStream();
        await using (Stream encrypting = ArchiveEncryption.OpenWrite(output, key, out _, chunkSize))
        {
            // Uneven writes, so chunk boundaries fall inside them.
            for (int offset = 0; offset < data.Length; offset += 700)
            {
                await encrypting.WriteAsync(data.AsMemory(offset, Math.Min(700, data.Length - offset)));
            }
        }

        return output.ToArray();
    }

    internal static async Task<byte[]> DecryptAsync(byte[] sealedBytes, EncryptionKey key)
    {
        await using Stream decrypting = ArchiveEncryption.OpenRead(new MemoryStream(sealedBytes), key, "test", out _);
        var output = new MemoryStream();
        await decrypting.CopyToAsync(output, 333);
        return output.ToArray();
    }

    private static byte[] Decrypt(byte[] sealedBytes, EncryptionKey key)
    {
        using Stream decrypting = ArchiveEncryption.OpenRead(new MemoryStream(sealedBytes), key, "test", out _);
        var output = new MemoryStream();
        decrypting.CopyTo(output, 500);
        return output.ToArray();
    }

    /// <summary>A first-in, first-out byte queue: writes append, reads consume; it keeps only what is not read yet.</summary>
    private sealed class FifoStream : Stream
    {
        private byte[] _buffer = new byte[8 * 1024 * 1024];
        private int _start;
        private int _end;

        public override long Length => _end - _start;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int count = Math.Min(buffer.Length, _end - _start);
            _buffer.AsSpan(_start, count).CopyTo(buffer);
            _start += count;
            return count;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_end + buffer.Length > _buffer.Length)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
                if (_end + buffer.Length > _buffer.Length)
                {
                    throw new InvalidOperationException($"The queue would hold {_end + buffer.Length} bytes.");
                }
            }

            buffer.CopyTo(_buffer.AsSpan(_end));
            _end += buffer.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
