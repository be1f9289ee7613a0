namespace TenantBackup.Engine;

/// <summary>What to back up and where: everything <c>BackupEngine.BackupAsync</c> needs, built by a front end.</summary>
public sealed record BackupRequest
{
    /// <summary>Default tenant column name.</summary>
    public const string DefaultTenantColumn = "tenant_id";

    /// <summary>Npgsql connection string; may omit what the <c>PG*</c> variables and <c>~/.pgpass</c> supply.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The tenant value, as text; converted by the tenant column's type in the database.</summary>
    public required string Tenant { get; init; }

    /// <summary>The column that carries the tenant in every direct table.</summary>
    public string TenantColumn { get; init; } = DefaultTenantColumn;

    /// <summary>The repository folder; null means the default (<c>BackupRepository.DefaultPath</c>).</summary>
    public string? Repository { get; init; }

    /// <summary>Compression of the archive.</summary>
    public Compression Compression { get; init; } = Compression.Zstd;

    /// <summary>
    /// True when the caller asked for <see cref="Compression"/> explicitly: then a missing libzstd is an error, not a
    /// fallback to gzip.
    /// </summary>
    public bool CompressionExplicit { get; init; }

    /// <summary>zstd or gzip level; null means the codec's default (zstd 3).</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Schemas to look for tables in; empty means every user schema.</summary>
    public IReadOnlyList<string> Schemas { get; init; } = [];

    /// <summary>
    /// Wildcards (<c>*</c>, <c>?</c>) of tables to keep, matched against <c>table</c> and <c>schema.table</c>; empty keeps all.
    /// </summary>
    public IReadOnlyList<string> IncludeTables { get; init; } = [];

    /// <summary>Wildcards of tables to leave out.</summary>
    public IReadOnlyList<string> ExcludeTables { get; init; } = [];

    /// <summary>Folders of tenant files to add under <c>files/</c>.</summary>
    public IReadOnlyList<string> IncludePaths { get; init; } = [];

    /// <summary>
    /// The key file or passphrase to encrypt the archive with (AES-256-GCM, docs/archive-format.md); null writes it
    /// unencrypted. The caller owns and disposes it.
    /// </summary>
    public EncryptionKey? Encryption { get; init; }

    /// <summary>Free text stored with the backup.</summary>
    public string? Message { get; init; }

    /// <summary>How long to wait for the tenant's lock.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Kind of backup: <c>full</c>, or <c>pre-restore</c> when a restore takes it.</summary>
    public string Kind { get; init; } = BackupKinds.Full;

    /// <summary>The backup this one derives from, if any.</summary>
    public string? ParentId { get; init; }

    /// <summary>
    /// Set by a restore that already holds the tenant's exclusive lock for its safety backup: the backup must not
    /// wait for a shared lock that its own caller holds exclusively.
    /// </summary>
    internal bool TenantLockHeld { get; init; }
}

/// <summary>The kinds of backup.</summary>
public static class BackupKinds
{
    /// <summary>A backup asked for by an operator.</summary>
    public const string Full = "full";

    /// <summary>The safety backup a restore takes of the target tenant first.</summary>
    public const string PreRestore = "pre-restore";
}
