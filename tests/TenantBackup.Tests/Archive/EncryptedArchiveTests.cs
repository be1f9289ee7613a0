using System.Security.Cryptography;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Archive.Encryption;
using Xunit;

namespace TenantBackup.Tests.Archive;

/// <summary>Whole archives in the encryption envelope: verification with, without and with the wrong key, and tampering.</summary>
public class EncryptedArchiveTests
{
    private const int Chunk = 1024;
    private const int Frame = Chunk + EnvelopeHeader.TagSize;

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task WithTheKey_VerifiesWhole(Compression compression)
    {
        using var temp = new TempFolder();
        using var key = NewKey();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression, key: key);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, key, default);

        Assert.Empty(result.Problems);
        Assert.True(result.IsValid);
        Assert.Null(result.KeyProblem);
        Assert.Equal(archive.Summary.KeyId, result.KeyId);
        Assert.Equal(archive.Summary.Sha256, result.Sha256);
        Assert.Equal(SampleArchive.BackupId, result.Manifest!.BackupId);
        Assert.Equal(new FileInfo(archive.Path).Length, result.Size);
    }

    [Fact]
    public async Task WithoutTheKey_ChecksOnlyTheFileHash()
    {
        using var temp = new TempFolder();
        using var key = NewKey();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd, key: key);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Empty(result.Problems);
        Assert.False(result.IsValid);
        Assert.Contains("no key was given", result.KeyProblem, StringComparison.Ordinal);
        Assert.Equal(archive.Summary.KeyId, result.KeyId);
        Assert.Equal(archive.Summary.Sha256, result.Sha256);
        Assert.Null(result.Manifest);
    }

    [Fact]
    public async Task WithoutTheKey_ADamagedFileStillFailsItsHash()
    {
        using var temp = new TempFolder();
        using var key = NewKey();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd, key: key);
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);
        bytes[^5] ^= 1;
        await File.WriteAllBytesAsync(archive.Path, bytes);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ChecksumMismatch);
    }

    [Fact]
    public async Task WithAnotherKey_SaysTheKeyDoesNotMatch()
    {
        using var temp = new TempFolder();
        using var key = NewKey();
        using var other = NewKey();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd, key: key);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, other, default);

        Assert.Empty(result.Problems);
        Assert.Contains("does not match", result.KeyProblem, StringComparison.Ordinal);
        Assert.Contains(archive.Summary.KeyId!, result.KeyProblem, StringComparison.Ordinal);
        Assert.Equal(archive.Summary.Sha256, result.Sha256);
    }

    [Fact]
    public async Task NoPlaintextInTheFile()
    {
        using var temp = new TempFolder();
        using var key = NewKey();
        SampleArchive.Written plain = await SampleArchive.WriteAsync(temp, Compression.None, withFiles: false);
        File.Move(plain.Path, plain.Path + ".plain");
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.None, withFiles: false, key: key);
        byte[] plainBytes = await File.ReadAllBytesAsync(plain.Path + ".plain");
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);

        foreach (string known in new[] { "ünïcødé 😀", SampleArchive.BackupId, "tenantbackup.json", "public.orders" })
        {
            byte[] needle = Encoding.UTF8.GetBytes(known);
            Assert.True(plainBytes.AsSpan().IndexOf(needle) >= 0, $"'{known}' should be in the unencrypted archive");
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"'{known}' is readable in the encrypted archive");
        }
    }

    public static TheoryData<string> Tampering => new()
    {
        "flip a byte in a chunk",
        "flip a byte in the last tag",
        "swap two chunks",
        "truncate at a chunk boundary",
        "drop the final chunk",
        "append a chunk",
        "duplicate a chunk",
        "append one byte",
        "cut inside a chunk",
    };

    /// <summary>Each change keeps the sidecar in step, so only the envelope itself can notice.</summary>
    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task Tampering_IsCorrupt_NotAKeyProblem(string change)
    {
        using var temp = new TempFolder();
        using var key = NewKey();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd, key: key);
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);
        int frames = (bytes.Length - EnvelopeHeader.Size + Frame - 1) / Frame;
        Assert.True(frames > 10, $"only {frames} chunks");
        byte[] tampered = Tamper(bytes, change, frames);
        await File.WriteAllBytesAsync(archive.Path, tampered);
        await Sha256File.WriteAsync(archive.Path, Convert.ToHexStringLower(SHA256.HashData(tampered)), default);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, key, default);

        Assert.Null(result.KeyProblem);
        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ArchiveCorrupt);
        Assert.DoesNotContain(result.Problems, p => p.Code == ErrorCode.ChecksumMismatch);
        Assert.False(result.IsValid);

        // Each problem says once that the archive is damaged, though the layers below the tar reader noticed first.
        Assert.All(result.Problems, p => Assert.True(p.Message.Split(" is damaged: ").Length <= 2, p.Message));
    }

    private static byte[] Tamper(byte[] bytes, string change, int frames)
    {
        int Start(int chunk) => EnvelopeHeader.Size + chunk * Frame;
        byte[] Chunk(int chunk) => bytes[Start(chunk)..Math.Min(bytes.Length, Start(chunk + 1))];
        switch (change)
        {
            case "flip a byte in a chunk":
                bytes[Start(3) + 100] ^= 0x20;
                return bytes;
            case "flip a byte in the last tag":
                bytes[^1] ^= 0x01;
                return bytes;
            case "swap two chunks":
                return [.. bytes[..Start(2)], .. Chunk(3), .. Chunk(2), .. bytes[Start(4)..]];
            case "truncate at a chunk boundary":
                return bytes[..Start(frames / 2)];
            case "drop the final chunk":
                return bytes[..Start(frames - 1)];
            case "append a chunk":
                return [.. bytes, .. Chunk(1)];
            case "duplicate a chunk":
                return [.. bytes[..Start(5)], .. Chunk(4), .. bytes[Start(5)..]];
            case "append one byte":
                return [.. bytes, 0];
            case "cut inside a chunk":
                return bytes[..(Start(frames / 2) + 7)];
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change, null);
        }
    }

    private static EncryptionKey NewKey() => EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
}
