using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TenantBackup.Engine.Archive.Encryption;

/// <summary>
/// The fixed 116-byte header of an encrypted archive (docs/archive-format.md has the byte layout): how the key is
/// found (raw key, or PBKDF2-SHA256 with salt and iterations), the key id, the chunk size, the nonce prefix, and the
/// archive's random data key wrapped with AES-256-GCM under the key-encryption key. Integers are big-endian.
/// </summary>
internal sealed class EnvelopeHeader
{
    /// <summary>Bytes of the header; the first chunk follows.</summary>
    public const int Size = 116;

    public const byte CurrentVersion = 1;
    public const byte CipherAes256Gcm = 1;
    public const byte KdfNone = 0;
    public const byte KdfPbkdf2Sha256 = 1;

    /// <summary>Plaintext bytes per chunk written.</summary>
    public const int DefaultChunkSize = 1024 * 1024;

    /// <summary>Bounds a reader accepts: below wastes tags, above would let a header make the reader allocate without limit.</summary>
    public const int MinChunkSize = 1024;

    public const int MaxChunkSize = 16 * 1024 * 1024;

    /// <summary>PBKDF2-SHA256 iterations written (OWASP's 2023 figure); fewer are refused on reading.</summary>
    public const int Pbkdf2Iterations = 600_000;

    /// <summary>A header asking for more would stall the reader for minutes; no TenantBackup writes that many.</summary>
    public const int MaxPbkdf2Iterations = 10_000_000;

    public const int TagSize = 16;
    public const int KeyIdSize = 16;
    public const int SaltSize = 16;
    public const int NoncePrefixSize = 4;

    private const int WrapNonceOffset = 56;
    private const int WrappedKeyOffset = 68;
    private const int WrapTagOffset = 100;

    private static readonly byte[] _keyIdLabel = Encoding.ASCII.GetBytes("tenantbackup key id");

    private readonly byte[] _bytes;

    private EnvelopeHeader(byte[] bytes) => _bytes = bytes;

    /// <summary>
    /// First eight bytes of every encrypted archive: <c>\x89TBENC\r\n</c> (a high bit and a CRLF, as PNG's, catch
    /// text-mode copies).
    /// </summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'T', (byte)'B', (byte)'E', (byte)'N', (byte)'C', 0x0D, 0x0A];

    public byte Kdf => _bytes[10];

    public int ChunkSize => (int)BinaryPrimitives.ReadUInt32BigEndian(_bytes.AsSpan(12));

    public int Iterations => (int)BinaryPrimitives.ReadUInt32BigEndian(_bytes.AsSpan(16));

    private ReadOnlySpan<byte> Salt => _bytes.AsSpan(20, SaltSize);

    private ReadOnlySpan<byte> KeyIdBytes => _bytes.AsSpan(36, KeyIdSize);

    public ReadOnlySpan<byte> NoncePrefix => _bytes.AsSpan(52, NoncePrefixSize);

    /// <summary>The key id, lowercase hex: it names the key without revealing it.</summary>
    public string KeyId => Convert.ToHexString(KeyIdBytes).ToLowerInvariant();

    /// <summary>The header's bytes, to write ahead of the first chunk.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// The first 16 bytes of HMAC-SHA256(key-encryption key, "tenantbackup key id"): equal for equal keys, and useless
    /// for finding the key.
    /// </summary>
    public static byte[] KeyIdOf(ReadOnlySpan<byte> keyEncryptionKey) => HMACSHA256.HashData(keyEncryptionKey, _keyIdLabel)[..KeyIdSize];

    /// <summary>A new header for <paramref name="key"/>, with a fresh data key (returned; the caller clears it) wrapped inside.</summary>
    public static EnvelopeHeader Create(EncryptionKey key, int chunkSize, out byte[] dataKey)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, MinChunkSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
        var bytes = new byte[Size];
        Magic.CopyTo(bytes);
        bytes[8] = CurrentVersion;
        bytes[9] = CipherAes256Gcm;
        bytes[10] = key.IsPassphrase ? KdfPbkdf2Sha256 : KdfNone;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), (uint)chunkSize);
        int iterations = key.IsPassphrase ? Pbkdf2Iterations : 0;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), (uint)iterations);
        if (key.IsPassphrase)
        {
            RandomNumberGenerator.Fill(bytes.AsSpan(20, SaltSize));
        }

        byte[] kek = key.KeyEncryptionKey(bytes.AsSpan(20, SaltSize), iterations);
        KeyIdOf(kek).CopyTo(bytes, 36);
        RandomNumberGenerator.Fill(bytes.AsSpan(52, NoncePrefixSize));
        RandomNumberGenerator.Fill(bytes.AsSpan(WrapNonceOffset, 12));

        dataKey = RandomNumberGenerator.GetBytes(EncryptionKey.KeyBytes);
        using var aes = new AesGcm(kek, TagSize);
        aes.Encrypt(
            bytes.AsSpan(WrapNonceOffset, 12),
            dataKey,
            bytes.AsSpan(WrappedKeyOffset, EncryptionKey.KeyBytes),
            bytes.AsSpan(WrapTagOffset, TagSize),
            bytes.AsSpan(0, WrapNonceOffset));
        return new EnvelopeHeader(bytes);
    }

    /// <summary>Parses a header that starts with <see cref="Magic"/>; anything this version cannot read is damage.</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.ArchiveCorrupt"/>, saying what is wrong.</exception>
    public static EnvelopeHeader Parse(ReadOnlySpan<byte> bytes, string archiveName)
    {
        TenantBackupException Bad(string what) => new(
            ErrorCode.ArchiveCorrupt,
            $"{archiveName} is damaged: its encryption header {what}. Verify it and use another backup or copy.",
            archiveName);

        if (bytes.Length < Size || !bytes.StartsWith(Magic))
        {
            throw Bad($"is cut short ({bytes.Length} of {Size} bytes)");
        }

        var header = new EnvelopeHeader(bytes[..Size].ToArray());
        if (bytes[8] != CurrentVersion)
        {
            throw Bad($"is of version {bytes[8]}; this TenantBackup reads version {CurrentVersion}");
        }

        if (bytes[9] != CipherAes256Gcm || bytes[11] != 0)
        {
            throw Bad($"names cipher {bytes[9]}, which this TenantBackup does not know");
        }

        if (header.ChunkSize is < MinChunkSize or > MaxChunkSize)
        {
            throw Bad($"declares chunks of {header.ChunkSize} bytes (allowed: {MinChunkSize} to {MaxChunkSize})");
        }

        bool iterationsOk = header.Kdf switch
        {
            KdfNone => header.Iterations == 0,
            KdfPbkdf2Sha256 => header.Iterations is >= Pbkdf2Iterations and <= MaxPbkdf2Iterations,
            _ => false,
        };
        return iterationsOk ? header : throw Bad($"names key derivation {header.Kdf} with {header.Iterations} iterations");
    }

    /// <summary>
    /// Unwraps the archive's data key with <paramref name="key"/>. A key whose id differs is the wrong key
    /// (<see cref="ErrorCode.DecryptionFailed"/>); the right key that cannot unwrap means the header was altered.
    /// </summary>
    public byte[] UnwrapDataKey(EncryptionKey key, string archiveName)
    {
        bool passphraseArchive = Kdf == KdfPbkdf2Sha256;
        byte[]? kek = passphraseArchive == key.IsPassphrase ? key.KeyEncryptionKey(Salt, Iterations) : null;
        if (kek is null || !CryptographicOperations.FixedTimeEquals(KeyIdOf(kek), KeyIdBytes))
        {
            string given = key.IsPassphrase ? "passphrase" : "key file";
            string expected = passphraseArchive ? "a passphrase" : "a key file";
            throw new TenantBackupException(
                ErrorCode.DecryptionFailed,
                $"The {given} given does not match the key of {archiveName} (key id {KeyId}, encrypted with {expected}). " +
                "Give the key file (-EncryptionKeyFile / --key-file) or passphrase (-Passphrase / --passphrase-env) it was written with.",
                archiveName);
        }

        var dataKey = new byte[EncryptionKey.KeyBytes];
        using var aes = new AesGcm(kek, TagSize);
        try
        {
            aes.Decrypt(
                _bytes.AsSpan(WrapNonceOffset, 12),
                _bytes.AsSpan(WrappedKeyOffset, EncryptionKey.KeyBytes),
                _bytes.AsSpan(WrapTagOffset, TagSize),
                dataKey,
                _bytes.AsSpan(0, WrapNonceOffset));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new TenantBackupException(
                ErrorCode.ArchiveCorrupt,
                $"{archiveName} is damaged: its encryption header fails authentication with the right key (key id {KeyId}). " +
                "Verify it and use another backup or copy.",
                archiveName,
                e);
        }

        return dataKey;
    }
}
