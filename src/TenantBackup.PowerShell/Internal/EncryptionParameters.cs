using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using TenantBackup.Engine;

namespace TenantBackup.PowerShell.Internal;

/// <summary>The key of <c>-EncryptionKeyFile</c> or <c>-Passphrase</c>, as the cmdlets that read or write archives take them.</summary>
internal static class EncryptionParameters
{
    /// <summary>The key, or null when neither parameter is given. The caller disposes it.</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.InvalidArgument"/>: both given, or an unusable key file.</exception>
    public static EncryptionKey? KeyFrom(string? keyFile, SecureString? passphrase, Func<string, string> resolvePath)
    {
        if (keyFile is not null && passphrase is not null)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, "Give -EncryptionKeyFile or -Passphrase, not both: an archive has one key.", "Passphrase");
        }

        if (keyFile is not null)
        {
            return EncryptionKey.FromKeyFile(resolvePath(keyFile));
        }

        return passphrase is null ? null : FromSecureString(passphrase);
    }

    // The passphrase is copied out of the SecureString only for as long as the key takes to copy it in turn.
    private static EncryptionKey FromSecureString(SecureString passphrase)
    {
        var characters = new char[passphrase.Length];
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(passphrase);
        try
        {
            Marshal.Copy(pointer, characters, 0, characters.Length);
            return EncryptionKey.FromPassphrase(characters);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(characters.AsSpan()));
        }
    }
}
