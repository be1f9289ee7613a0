using System.Collections.ObjectModel;

namespace TenantBackup.Engine;

/// <summary>How restored rows meet the target tenant's current rows.</summary>
public enum RestoreMode
{
    /// <summary>Delete the tenant's current rows of the restored tables (children first), then insert the archive's rows.</summary>
    Replace,

    /// <summary>Upsert by primary key: archive rows overwrite rows with the same key, other current rows stay.</summary>
    Merge,

    /// <summary>Insert only archive rows whose key is absent; every current row stays as it is.</summary>
    Append,
}

/// <summary>What to do when restored surrogate keys are already used by another tenant's rows.</summary>
public enum KeyCollisionAction
{
    /// <summary>Give the colliding rows new keys (from the key's sequence, or a new uuid) and rewrite every reference to them.</summary>
    Remap,

    /// <summary>Refuse the restore and list the collisions.</summary>
    Fail,
}

/// <summary>What to restore and where: everything <c>RestoreEngine</c> needs, built by a front end.</summary>
public sealed record RestoreRequest
{
    /// <summary>
    /// Npgsql connection string of the target database; may omit what the <c>PG*</c> variables and <c>~/.pgpass</c> supply.
    /// </summary>
    public required string ConnectionString { get; init; }

    /// <summary>The backup's id in the repository's index; give this or <see cref="ArchivePath"/>.</summary>
    public string? BackupId { get; init; }

    /// <summary>The archive file; give this or <see cref="BackupId"/>.</summary>
    public string? ArchivePath { get; init; }

    /// <summary>The repository folder; null means the default. Safety backups and the restore's history go there.</summary>
    public string? Repository { get; init; }

    /// <summary>The tenant to restore into; null restores into the tenant the backup was taken from.</summary>
    public string? TargetTenant { get; init; }

    /// <summary>How restored rows meet the current ones.</summary>
    public RestoreMode Mode { get; init; } = RestoreMode.Replace;

    /// <summary>Remap or refuse surrogate keys used by other tenants.</summary>
    public KeyCollisionAction KeyCollision { get; init; } = KeyCollisionAction.Remap;

    /// <summary>Skip the safety backup of the target tenant (kind <c>pre-restore</c>) taken before any change.</summary>
    public bool NoPreBackup { get; init; }

    /// <summary>Disable user triggers of the restored tables while rows are written (foreign keys stay checked).</summary>
    public bool DisableTriggers { get; init; }

    /// <summary>
    /// Wildcards (<c>*</c>, <c>?</c>) of the archive's tables to restore, matched against <c>table</c> and <c>schema.table</c>;
    /// empty restores all.
    /// </summary>
    public IReadOnlyList<string> IncludeTables { get; init; } = [];

    /// <summary>Wildcards of the archive's tables to leave out.</summary>
    public IReadOnlyList<string> ExcludeTables { get; init; } = [];

    /// <summary>
    /// Where the archive's tenant files go. Null puts them back where they were backed up from, which a restore into
    /// another tenant refuses (it would overwrite the source tenant's files) unless <see cref="SkipFiles"/> is set.
    /// With one folder in the archive this is that folder; with several, each goes into a subfolder of its own name.
    /// </summary>
    public string? FilesPath { get; init; }

    /// <summary>Leave the archive's tenant files out of the restore.</summary>
    public bool SkipFiles { get; init; }

    /// <summary>
    /// The key file or passphrase of an encrypted archive; the safety backup is encrypted with it too. An unencrypted
    /// archive needs none.
    /// </summary>
    public EncryptionKey? Encryption { get; init; }

    /// <summary>
    /// Values for columns of the target tenant's root row (e.g. <c>tenants</c>), by column name, as text that is cast to
    /// the column's type; null sets SQL NULL. Meant for clones: when the root table has a unique natural column (a slug, a
    /// subdomain), the clone's root row needs its own value, or the restore is refused as a key collision. Every other
    /// column keeps the backup's value; the root key column is the tenant value and is set by <see cref="TargetTenant"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string?> RootValues { get; init; } = ReadOnlyDictionary<string, string?>.Empty;

    /// <summary>How long to wait for the tenant's lock.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
