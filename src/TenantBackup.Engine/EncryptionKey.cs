using System.Security.Cryptography;
using System.Text;

namespace TenantBackup.Engine;

/// <summary>
/// The secret an encrypted archive is written or read with: 32 random bytes from a key file, or a passphrase that
/// each archive stretches with PBKDF2-SHA256 and its own random salt. The secret is never written anywhere; archives
/// and the index carry only a key id derived from it. Dispose it to clear the secret from memory.
/// </summary>
public sealed class EncryptionKey : IDisposable
{
    /// <summary>Bytes of a raw key, as a key file holds them (or their base64 text).</summary>
    public const int KeyBytes = 32;

    private readonly byte[] _secret;
    private readonly Dictionary<string, byte[]> _derived = new(StringComparer.Ordinal);
    private bool _disposed;

    private EncryptionKey(byte[] secret, bool isPassphrase)
    {
        _secret = secret;
        IsPassphrase = isPassphrase;
    }

    /// <summary>True for a passphrase, false for a raw key.</summary>
    public bool IsPassphrase { get; }

    /// <summary>
    /// Reads a key file: exactly 32 bytes (e.g. <c>head -c 32 /dev/urandom &gt; tenant.key</c>), or a text file holding
    /// their base64 (e.g. <c>openssl rand -base64 32 &gt; tenant.key</c>), surrounding white space ignored.
    /// </summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.InvalidArgument"/> for a missing or malformed file.</exception>
    public static EncryptionKey FromKeyFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] content;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > 1024)
            {
                throw Invalid(path, info.Exists ? "it is larger than a key file can be" : "it does not exist");
            }

            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, $"The key file '{path}' cannot be read: {e.Message}", path, e);
        }

        try
        {
            if (content.Length == KeyBytes)
            {
                return new EncryptionKey((byte[])content.Clone(), isPassphrase: false);
            }

            var key = new byte[KeyBytes];
            string text = Encoding.ASCII.GetString(content).Trim();
            if (!Convert.TryFromBase64String(text, key, out int written) || written != KeyBytes)
            {
                CryptographicOperations.ZeroMemory(key);
                throw Invalid(path, $"it holds {content.Length} bytes that are neither {KeyBytes} raw bytes nor their base64 text");
            }

            return new EncryptionKey(key, isPassphrase: false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    /// <summary>A raw 32-byte key.</summary>
    public static EncryptionKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyBytes)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, $"An encryption key has {KeyBytes} bytes, not {key.Length}.", "EncryptionKey");
        }

        return new EncryptionKey(key.ToArray(), isPassphrase: false);
    }

    /// <summary>A passphrase, taken as its UTF-8 bytes in Unicode normalization form C (so the same text typed anywhere matches).</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.InvalidArgument"/> for an empty passphrase.</exception>
    public static EncryptionKey FromPassphrase(ReadOnlySpan<char> passphrase)
    {
        if (passphrase.IsEmpty)
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, "The passphrase is empty.", "Passphrase");
        }

        // Normalization needs a string; it lives only as long as this call.
        string normalized = new string(passphrase).Normalize(NormalizationForm.FormC);
        return new EncryptionKey(Encoding.UTF8.GetBytes(normalized), isPassphrase: true);
    }

    /// <summary>Says what kind of key this is, never the key.</summary>
    public override string ToString() => IsPassphrase ? "passphrase" : "key file";

    /// <summary>Clears the secret and every key derived from it.</summary>
    public void Dispose()
    {
        lock (_derived)
        {
            _disposed = true;
            CryptographicOperations.ZeroMemory(_secret);
            foreach (byte[] derived in _derived.Values)
            {
                CryptographicOperations.ZeroMemory(derived);
            }

            _derived.Clear();
        }
    }

    /// <summary>
    /// The key-encryption key of one archive: the raw key itself, or the passphrase stretched with the archive's salt.
    /// Derivations are remembered, because one restore opens its archive several times.
    /// </summary>
    internal byte[] KeyEncryptionKey(ReadOnlySpan<byte> salt, int iterations)
    {
        lock (_derived)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!IsPassphrase)
            {
                return _secret;
            }

            string cacheKey = $"{Convert.ToHexString(salt)}:{iterations}";
            if (!_derived.TryGetValue(cacheKey, out byte[]? derived))
            {
                derived = Rfc2898DeriveBytes.Pbkdf2(_secret, salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
                _derived[cacheKey] = derived;
            }

            return derived;
        }
    }

    private static TenantBackupException Invalid(string path, string why) => new(
        ErrorCode.InvalidArgument,
        $"'{path}' is not a usable key file: {why}. Create one with 'openssl rand -base64 32 > FILE' (keep it apart from the backups).",
        path);
}
