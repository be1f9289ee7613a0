namespace TenantBackup.Engine.Integrity;

/// <summary>What <see cref="IntegrityEngine.VerifyAsync"/> checks, and how deeply.</summary>
public sealed record IntegrityRequest
{
    /// <summary>Backup ids in the repository's index. With no ids and no paths, every backup of the repository is checked.</summary>
    public IReadOnlyList<string> Ids { get; init; } = [];

    /// <summary>Archive files, checked whether or not an index lists them.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    /// <summary>Repository folder; default <c>$TENANTBACKUP_REPOSITORY</c>, else the per-user data folder.</summary>
    public string? Repository { get; init; }

    /// <summary>Only the archive file's SHA-256 against its <c>.sha256</c> and the index; the entries are not read.</summary>
    public bool Quick { get; init; }

    /// <summary>
    /// Also restore each valid backup into <see cref="ConnectionString"/>'s database inside a transaction that is always
    /// rolled back, to learn whether it would restore there today.
    /// </summary>
    public bool RestoreTest { get; init; }

    /// <summary>
    /// The key file or passphrase of encrypted archives. Without it (or with another key) an encrypted archive gets
    /// only its file checksum checked, and its entry checks are reported as skipped.
    /// </summary>
    public EncryptionKey? Encryption { get; init; }

    /// <summary>Npgsql connection string for <see cref="RestoreTest"/>; the <c>PG*</c> variables fill in what it leaves out.</summary>
    public string? ConnectionString { get; init; }
}
