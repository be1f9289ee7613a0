using System.Security.Cryptography;

namespace TenantBackup.Engine.Archive.Encryption;

/// <summary>
/// The encryption envelope around an archive's compressed stream: on writing, a header and then sealed chunks; on
/// reading, recognised by its magic bytes, so an unencrypted archive reads as before.
/// </summary>
internal static class ArchiveEncryption
{
    /// <summary>The algorithm's name in the index and in results.</summary>
    public const string Algorithm = "aes-256-gcm";

    /// <summary>Added to the archive's name: <c>.tar.zst.tbenc</c>.</summary>
    public const string FileExtension = ".tbenc";

    /// <summary>
    /// Writes a new header for <paramref name="key"/> to <paramref name="inner"/> and returns the layer that encrypts
    /// into it; disposing that layer writes the final chunk and disposes <paramref name="inner"/>.
    /// </summary>
    public static Stream OpenWrite(
        Stream inner, EncryptionKey key, out EnvelopeHeader header, int chunkSize = EnvelopeHeader.DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(key);
        header = EnvelopeHeader.Create(key, chunkSize, out byte[] dataKey);
        try
        {
            inner.Write(header.Bytes);
            return new EncryptingStream(inner, header, dataKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>
    /// The archive's compressed stream from <paramref name="inner"/>, which the result owns: decrypted when the archive
    /// is encrypted (<paramref name="header"/> is then set), the bytes as they are otherwise.
    /// </summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.DecryptionFailed"/> for an encrypted archive without a key or with another key;
    /// <see cref="ErrorCode.ArchiveCorrupt"/> for a damaged header.
    /// </exception>
    public static Stream OpenRead(Stream inner, EncryptionKey? key, string archiveName, out EnvelopeHeader? header)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var head = new byte[EnvelopeHeader.Size];
        int read = inner.ReadAtLeast(head.AsSpan(0, EnvelopeHeader.Magic.Length), EnvelopeHeader.Magic.Length, throwOnEndOfStream: false);
        if (!head.AsSpan(0, read).SequenceEqual(EnvelopeHeader.Magic))
        {
            header = null;
            return new PrefixedReadStream(head.AsSpan(0, read), inner);
        }

        read += inner.ReadAtLeast(head.AsSpan(read), head.Length - read, throwOnEndOfStream: false);
        header = EnvelopeHeader.Parse(head.AsSpan(0, read), archiveName);
        if (key is null)
        {
            string kind = header.Kdf == EnvelopeHeader.KdfNone ? "key file" : "passphrase";
            throw new TenantBackupException(
                ErrorCode.DecryptionFailed,
                $"{archiveName} is encrypted (key id {header.KeyId}, {kind}) " +
                "and no key was given. Give its key file (-EncryptionKeyFile / --key-file) or passphrase " +
                "(-Passphrase / --passphrase-env).",
                archiveName);
        }

        byte[] dataKey = header.UnwrapDataKey(key, archiveName);
        try
        {
            return new DecryptingStream(inner, header, dataKey, archiveName);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The header of the archive at <paramref name="path"/>, or null when it is not encrypted. Needs no key.</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.ArchiveCorrupt"/> for a damaged header.</exception>
    public static EnvelopeHeader? ReadHeader(string path)
    {
        var head = new byte[EnvelopeHeader.Size];
        int read;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        {
            read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        return head.AsSpan(0, Math.Min(read, EnvelopeHeader.Magic.Length)).SequenceEqual(EnvelopeHeader.Magic)
            ? EnvelopeHeader.Parse(head.AsSpan(0, read), path)
            : null;
    }
}
