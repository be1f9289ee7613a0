using TenantBackup.Engine;

namespace TenantBackup.Cli;

/// <summary>The documented exit codes of <c>tenantbackup</c>; scripts depend on them.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Any failure without a more specific code.</summary>
    public const int Failure = 1;

    /// <summary>The command line (or a value in it) is not valid.</summary>
    public const int Usage = 2;

    /// <summary>An archive is corrupt, fails its checksum or is missing.</summary>
    public const int Integrity = 3;

    /// <summary>Another operation holds the tenant's lock.</summary>
    public const int TenantLocked = 4;

    /// <summary>A restore was refused: schema mismatch or key collision.</summary>
    public const int Refused = 5;

    /// <summary>An encrypted archive was read without its key, or the key or passphrase given does not match it.</summary>
    public const int Decryption = 6;

    /// <summary>The exit code for an engine error.</summary>
    public static int For(ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => Usage,
        ErrorCode.ArchiveCorrupt or ErrorCode.ChecksumMismatch or ErrorCode.ArchiveNotFound => Integrity,
        ErrorCode.TenantLocked => TenantLocked,
        ErrorCode.SchemaMismatch or ErrorCode.KeyCollision => Refused,
        ErrorCode.DecryptionFailed => Decryption,
        _ => Failure,
    };
}
