namespace TenantBackup.Engine;

/// <summary>
/// Stable identifiers of the conditions the engine reports. Front ends map them to
/// <c>ErrorRecord.ErrorId</c> (PowerShell) and to exit codes (CLI); scripts and tests depend on the names.
/// </summary>
public enum ErrorCode
{
    /// <summary>An argument or combination of arguments is not valid.</summary>
    InvalidArgument,

    /// <summary>The tenant has no root row and no rows in any scoped table.</summary>
    TenantNotFound,

    /// <summary>The tenant value does not convert to the tenant column's type.</summary>
    InvalidTenantValue,

    /// <summary>The tenant scope cannot be resolved (no table has the tenant column, an include pattern matched nothing...).</summary>
    ScopeError,

    /// <summary>Row-level security would filter what the backup reads, so it would be incomplete.</summary>
    RowLevelSecurity,

    /// <summary>Another operation holds the tenant's lock.</summary>
    TenantLocked,

    /// <summary>The server could not be reached or the connection broke.</summary>
    ConnectionFailed,

    /// <summary>The server refused the credentials (SQLSTATE class 28).</summary>
    AuthenticationFailed,

    /// <summary>The role lacks a privilege (SQLSTATE 42501).</summary>
    PermissionDenied,

    /// <summary>The database does not exist (SQLSTATE 3D000).</summary>
    DatabaseNotFound,

    /// <summary>Any other error reported by PostgreSQL.</summary>
    DatabaseError,

    /// <summary>The archive is damaged or is not a TenantBackup archive.</summary>
    ArchiveCorrupt,

    /// <summary>The archive's SHA-256 differs from its <c>.sha256</c> file or the index.</summary>
    ChecksumMismatch,

    /// <summary>The archive named by an id or path does not exist.</summary>
    ArchiveNotFound,

    /// <summary>The requested compression cannot be used on this machine (e.g. libzstd missing).</summary>
    CompressionUnavailable,

    /// <summary>The repository folder or its index cannot be used.</summary>
    RepositoryError,

    /// <summary>The index (<c>backups.json</c>) cannot be read.</summary>
    IndexCorrupt,

    /// <summary>Another process holds the index lock past the timeout.</summary>
    IndexLocked,

    /// <summary>Writing a file failed (disk full, permissions...).</summary>
    IOError,

    /// <summary>The target schema differs from the archive's in ways a restore cannot bridge.</summary>
    SchemaMismatch,

    /// <summary>Restored keys collide with other tenants' rows and remapping was refused.</summary>
    KeyCollision,

    /// <summary>The operation was cancelled.</summary>
    Cancelled,

    /// <summary>An encrypted archive was read without a key, or with a key or passphrase that does not match its key id.</summary>
    DecryptionFailed,
}
