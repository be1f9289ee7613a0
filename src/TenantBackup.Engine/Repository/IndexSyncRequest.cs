namespace TenantBackup.Engine.Repository;

/// <summary>What Sync-BackupIndex (<c>tenantbackup sync</c>) compares and whether it repairs.</summary>
public sealed class IndexSyncRequest
{
    /// <summary>Repository folder; null for <see cref="BackupRepository.DefaultPath"/>. It must exist.</summary>
    public string? Repository { get; init; }

    /// <summary>Only this tenant's backups and archives; null for all. An unreadable index is rebuilt whole regardless.</summary>
    public string? Tenant { get; init; }

    /// <summary>
    /// The key of encrypted archives: needed to read an orphaned one's contents and adopt it. Without it an encrypted
    /// archive's file checksum is all that can be checked.
    /// </summary>
    public EncryptionKey? Encryption { get; init; }

    /// <summary>Repair the index; without it nothing is written.</summary>
    public bool Apply { get; init; }
}
