using System.Collections.ObjectModel;

namespace TenantBackup.Engine;

/// <summary>What one restored table received.</summary>
public sealed class RestoreTableResult
{
    /// <summary>The table, <c>schema.table</c>.</summary>
    public required string Table { get; init; }

    /// <summary>Rows of the table in the archive.</summary>
    public required long ArchiveRows { get; init; }

    /// <summary>Rows inserted.</summary>
    public required long Inserted { get; init; }

    /// <summary>Rows overwritten in place (<c>Merge</c>; the root row in <c>Replace</c>).</summary>
    public required long Updated { get; init; }

    /// <summary>The tenant's rows deleted before the insert (<c>Replace</c>).</summary>
    public required long Deleted { get; init; }

    /// <summary>Archive rows that were given a new key because another tenant uses theirs.</summary>
    public required long Remapped { get; init; }
}

/// <summary>A finished restore: what <c>Restore-TenantBackup</c> and <c>tenantbackup restore</c> return.</summary>
public sealed class RestoreResult
{
    /// <summary>The restore's own id (UUIDv7), as recorded in the backup's restore history.</summary>
    public required string Id { get; init; }

    /// <summary>The backup that was restored.</summary>
    public required string BackupId { get; init; }

    /// <summary>The tenant the backup was taken from.</summary>
    public required string Tenant { get; init; }

    /// <summary>The tenant the rows went into.</summary>
    public required string TargetTenant { get; init; }

    /// <summary>The target database, <c>PostgreSQL host:port/database</c>.</summary>
    public required string Database { get; init; }

    /// <summary>How restored rows met the current ones.</summary>
    public required RestoreMode Mode { get; init; }

    /// <summary>
    /// The safety backup of the target tenant taken first; restoring it undoes this restore. Null when skipped or when the tenant had
    /// no rows.
    /// </summary>
    public string? PreRestoreBackupId { get; init; }

    /// <summary>The values the root row was given (<see cref="RestoreRequest.RootValues"/>); empty when none.</summary>
    public IReadOnlyDictionary<string, string?> RootValues { get; init; } = ReadOnlyDictionary<string, string?>.Empty;

    /// <summary>When the restore started (UTC).</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>How long it took, archive check to commit.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Rows inserted, all tables.</summary>
    public long Inserted => Tables.Sum(t => t.Inserted);

    /// <summary>Rows overwritten in place, all tables.</summary>
    public long Updated => Tables.Sum(t => t.Updated);

    /// <summary>Rows deleted, all tables.</summary>
    public long Deleted => Tables.Sum(t => t.Deleted);

    /// <summary>Rows given a new key, all tables.</summary>
    public long Remapped => Tables.Sum(t => t.Remapped);

    /// <summary>Tenant files put in place.</summary>
    public required int FilesRestored { get; init; }

    /// <summary>The archive file that was restored.</summary>
    public required string Path { get; init; }

    /// <summary>Per table, in insert order.</summary>
    public required IReadOnlyList<RestoreTableResult> Tables { get; init; }
}
