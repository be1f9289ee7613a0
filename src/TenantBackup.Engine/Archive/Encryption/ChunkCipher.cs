using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TenantBackup.Engine.Archive.Encryption;

/// <summary>
/// AES-256-GCM over one archive's chunks. Chunk <c>i</c> uses the nonce <c>prefix(4) ‖ i(8)</c> and the associated data
/// <c>i(8) ‖ final(1)</c>, so a chunk authenticates only at its own place and with its own finality: moved, dropped,
/// repeated, cut or appended chunks all fail their tag.
/// </summary>
internal sealed class ChunkCipher : IDisposable
{
    private readonly AesGcm _aes;
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _associated = new byte[9];

    public ChunkCipher(ReadOnlySpan<byte> dataKey, ReadOnlySpan<byte> noncePrefix)
    {
        _aes = new AesGcm(dataKey, EnvelopeHeader.TagSize);
        noncePrefix.CopyTo(_nonce);
    }

    /// <summary>The index of the next chunk.</summary>
    public ulong Index { get; private set; }

    /// <summary>Encrypts the next chunk into <paramref name="frame"/> (ciphertext, then tag); returns the frame's length.</summary>
    public int Seal(ReadOnlySpan<byte> plain, Span<byte> frame, bool final)
    {
        Prepare(final);
        _aes.Encrypt(_nonce, plain, frame[..plain.Length], frame.Slice(plain.Length, EnvelopeHeader.TagSize), _associated);
        Index++;
        return plain.Length + EnvelopeHeader.TagSize;
    }

    /// <summary>Decrypts the next chunk's <paramref name="frame"/> into <paramref name="plain"/>; false when its tag fails.</summary>
    public bool TryOpen(ReadOnlySpan<byte> frame, Span<byte> plain, bool final)
    {
        int length = frame.Length - EnvelopeHeader.TagSize;
        Prepare(final);
        try
        {
            _aes.Decrypt(_nonce, frame[..length], frame[length..], plain[..length], _associated);
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plain[..length]);
            return false;
        }

        Index++;
        return true;
    }

    public void Dispose() => _aes.Dispose();

    private void Prepare(bool final)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(EnvelopeHeader.NoncePrefixSize), Index);
        BinaryPrimitives.WriteUInt64BigEndian(_associated, Index);
        _associated[8] = final ? (byte)1 : (byte)0;
    }
}
