namespace TenantBackup.Engine;

/// <summary>One backup in a repository: what <c>New-TenantBackup</c> and <c>Get-TenantBackup</c> return.</summary>
public sealed class BackupInfo
{
    /// <summary>Unique, time-sortable id (UUIDv7).</summary>
    public required string Id { get; init; }

    /// <summary>The tenant value.</summary>
    public required string Tenant { get; init; }

    /// <summary>The tenant column.</summary>
    public required string TenantColumn { get; init; }

    /// <summary><c>full</c> or <c>pre-restore</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>When the backup's snapshot was taken (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Database the backup was taken from.</summary>
    public required string Database { get; init; }

    /// <summary>Number of tables in the archive.</summary>
    public required int TableCount { get; init; }

    /// <summary>Number of rows in the archive.</summary>
    public required long RowCount { get; init; }

    /// <summary>Archive size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary><c>available</c>, <c>missing</c> or <c>corrupt</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Full path of the archive file.</summary>
    public required string Path { get; init; }

    /// <summary>The repository folder holding it.</summary>
    public required string Repository { get; init; }

    /// <summary>SHA-256 of the archive file, lowercase hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary><c>zstd</c>, <c>gzip</c> or <c>none</c>.</summary>
    public required string Compression { get; init; }

    /// <summary><c>aes-256-gcm</c> when the archive is encrypted; null when it is not.</summary>
    public string? Encryption { get; init; }

    /// <summary>True when the archive is encrypted: reading its contents needs its key file or passphrase.</summary>
    public bool Encrypted => Encryption is not null;

    /// <summary>
    /// The id of the key an encrypted archive was written with: the same for every archive of one key file, different for
    /// every archive of a passphrase (each has its own salt). Never the key.
    /// </summary>
    public string? KeyId { get; init; }

    /// <summary>The backup this one derives from, if any.</summary>
    public string? ParentId { get; init; }

    /// <summary>Server host the backup was taken from.</summary>
    public string? Server { get; init; }

    /// <summary>Who took it (<c>user@host</c>).</summary>
    public string? CreatedBy { get; init; }

    /// <summary>The operator's message.</summary>
    public string? Message { get; init; }

    /// <summary>When it was last verified, if ever.</summary>
    public DateTimeOffset? LastVerifiedAt { get; init; }

    /// <summary>Outcome of the last verification.</summary>
    public string? LastVerifyResult { get; init; }

    /// <summary>How often this backup has been restored (the index keeps each restore's details).</summary>
    public int RestoreCount { get; init; }

    /// <summary>When it was last restored, if ever.</summary>
    public DateTimeOffset? LastRestoredAt { get; init; }
}
