using System.Text.Json;
using System.Text.Json.Serialization;
using TenantBackup.Engine.Archive;

namespace TenantBackup.Engine.Repository;

/// <summary>Where a backup was taken: never a password.</summary>
public sealed class BackupSource
{
    /// <summary>Server host as given in the connection.</summary>
    public string? Host { get; set; }

    /// <summary>Database name.</summary>
    public string Database { get; set; } = "";

    /// <summary><c>server_version</c>.</summary>
    public string? ServerVersion { get; set; }

    /// <summary>The cluster's system identifier, which tells clusters apart even when host names repeat.</summary>
    public string? SystemIdentifier { get; set; }
}

/// <summary>One backup as <c>backups.json</c> records it.</summary>
internal sealed class IndexEntry
{
    public string Id { get; set; } = "";

    public string Tenant { get; set; } = "";

    public string TenantColumn { get; set; } = "";

    public string Kind { get; set; } = BackupKinds.Full;

    public string? ParentId { get; set; }

    /// <summary>Archive path relative to the repository, with forward slashes.</summary>
    public string Path { get; set; } = "";

    public long Size { get; set; }

    public string Sha256 { get; set; } = "";

    public string Compression { get; set; } = "";

    /// <summary><c>aes-256-gcm</c> for an encrypted archive; null when it is not encrypted.</summary>
    public string? Encryption { get; set; }

    /// <summary>The id of the key an encrypted archive was written with (never the key itself).</summary>
    public string? KeyId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public BackupSource Source { get; set; } = new();

    public int TableCount { get; set; }

    public long RowCount { get; set; }

    public string Status { get; set; } = BackupStatus.Available;

    public DateTimeOffset? LastVerifiedAt { get; set; }

    public string? LastVerifyResult { get; set; }

    public string? Message { get; set; }

    /// <summary>Every restore of this backup, oldest first.</summary>
    public List<RestoreRecord>? Restores { get; set; }

    /// <summary>Fields written by newer versions, kept as they are when this version rewrites the index.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>Records the key id of an encrypted archive; null (not encrypted) clears both fields.</summary>
    internal void SetEncryption(string? keyId)
    {
        Encryption = keyId is null ? null : Archive.Encryption.ArchiveEncryption.Algorithm;
        KeyId = keyId;
    }

    /// <summary>
    /// The entry of an archive from its own <c>tenantbackup.json</c>: how a backup records what it wrote, and how
    /// Sync-BackupIndex adopts an archive the index does not list.
    /// </summary>
    internal static IndexEntry Describe(
        BackupMetadata metadata, string path, long size, string sha256, int tableCount, long rowCount) => new()
    {
        Id = metadata.Id,
        Tenant = metadata.Tenant.Value,
        TenantColumn = metadata.Tenant.Column,
        Kind = metadata.Kind,
        ParentId = metadata.ParentId,
        Path = path,
        Size = size,
        Sha256 = sha256,
        Compression = metadata.Compression,
        CreatedAt = metadata.CreatedAt,
        CreatedBy = metadata.CreatedBy,
        Source = metadata.Source,
        TableCount = tableCount,
        RowCount = rowCount,
        Status = BackupStatus.Available,
        Message = metadata.Message,
    };
}

/// <summary>One restore of a backup, in the backup's history: when, by whom, where to, and what it did.</summary>
internal sealed class RestoreRecord
{
    public string Id { get; set; } = "";

    public DateTimeOffset RestoredAt { get; set; }

    public string? RestoredBy { get; set; }

    /// <summary><c>PostgreSQL host:port/database</c>.</summary>
    public string Database { get; set; } = "";

    public string TargetTenant { get; set; } = "";

    public RestoreMode Mode { get; set; }

    public int Tables { get; set; }

    public long Inserted { get; set; }

    public long Updated { get; set; }

    public long Deleted { get; set; }

    public long Remapped { get; set; }

    public int Files { get; set; }

    public string? PreRestoreBackupId { get; set; }

    /// <summary>The values the restore set in the target tenant's root row (<see cref="RestoreRequest.RootValues"/>), if any.</summary>
    public Dictionary<string, string?>? RootValues { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>The status values of an index entry.</summary>
public static class BackupStatus
{
    /// <summary>The archive is in the repository.</summary>
    public const string Available = "available";

    /// <summary>The index lists it but the file is gone.</summary>
    public const string Missing = "missing";

    /// <summary>The file failed verification.</summary>
    public const string Corrupt = "corrupt";
}

/// <summary>The whole of <c>backups.json</c>.</summary>
internal sealed class IndexDocument
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    public List<IndexEntry> Backups { get; set; } = [];

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
