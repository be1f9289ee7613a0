using System.Collections.ObjectModel;
using TenantBackup.Engine.Catalog;

namespace TenantBackup.Engine;

/// <summary>What a restore would do to one table.</summary>
public sealed class RestoreTablePlan
{
    /// <summary>The table, <c>schema.table</c>.</summary>
    public required string Table { get; init; }

    /// <summary>Rows of the table in the archive.</summary>
    public required long ArchiveRows { get; init; }

    /// <summary>Rows that would be inserted.</summary>
    public required long Insert { get; init; }

    /// <summary>Current rows that would be overwritten.</summary>
    public required long Update { get; init; }

    /// <summary>Current rows of the tenant that would be deleted.</summary>
    public required long Delete { get; init; }

    /// <summary>Archive rows that would get a new key.</summary>
    public required long Remap { get; init; }
}

/// <summary>How the target's schema differs from the archive's, for one table or column.</summary>
public sealed class SchemaDifference
{
    /// <summary>The table, <c>schema.table</c>.</summary>
    public required string Table { get; init; }

    /// <summary>The column, when the difference is about one.</summary>
    public string? Column { get; init; }

    /// <summary>
    /// <c>missing-table</c>, <c>not-in-scope</c>, <c>missing-column</c>, <c>type-changed</c>, <c>new-not-null-column</c>,
    /// <c>generated-in-target</c>, <c>now-not-null</c>, <c>new-column</c>, <c>key-changed</c>, <c>not-in-backup</c>.
    /// </summary>
    public required string Kind { get; init; }

    /// <summary>What the archive has (a type, a key...).</summary>
    public string? Archive { get; init; }

    /// <summary>What the target has.</summary>
    public string? Target { get; init; }

    /// <summary>True when the restore cannot proceed because of it.</summary>
    public required bool Blocking { get; init; }

    /// <summary>One sentence for the operator.</summary>
    public required string Message { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>Archive keys that are already used in the target by rows that are not the target tenant's.</summary>
public sealed class KeyCollisionInfo
{
    /// <summary>The table, <c>schema.table</c>.</summary>
    public required string Table { get; init; }

    /// <summary>The key's columns.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>True for a single-column surrogate key (sequence-backed integer or uuid) that a restore can give new values.</summary>
    public required bool Surrogate { get; init; }

    /// <summary>How many archive rows collide.</summary>
    public required long Count { get; init; }

    /// <summary>A few of the colliding values, as text.</summary>
    public required IReadOnlyList<string> Examples { get; init; }

    /// <summary><c>remap</c> or <c>refuse</c>.</summary>
    public required string Resolution { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Table} ({string.Join(", ", Columns)}): {Count} value(s) already used by other tenants, " +
        $"e.g. {string.Join(", ", Examples)} -> {Resolution}";
}

/// <summary>What a restore would do (<c>-WhatIf</c> / <c>--dry-run</c>); computing it changes nothing.</summary>
public sealed class RestorePlan
{
    /// <summary>The backup that would be restored.</summary>
    public required string BackupId { get; init; }

    /// <summary>The tenant the backup was taken from.</summary>
    public required string Tenant { get; init; }

    /// <summary>The tenant the rows would go into.</summary>
    public required string TargetTenant { get; init; }

    /// <summary>The target database, <c>PostgreSQL host:port/database</c>.</summary>
    public required string Database { get; init; }

    /// <summary>How restored rows would meet the current ones.</summary>
    public required RestoreMode Mode { get; init; }

    /// <summary>What would happen to colliding surrogate keys.</summary>
    public required KeyCollisionAction KeyCollision { get; init; }

    /// <summary>The values the root row would be given (<see cref="RestoreRequest.RootValues"/>); empty when none.</summary>
    public IReadOnlyDictionary<string, string?> RootValues { get; init; } = ReadOnlyDictionary<string, string?>.Empty;

    /// <summary>True when nothing found stands in the way; <see cref="Problems"/> says why not otherwise.</summary>
    public bool CanRestore => Problems.Count == 0;

    /// <summary>True when a safety backup of the target tenant would be taken first.</summary>
    public required bool PreRestoreBackup { get; init; }

    /// <summary>Per table, in insert order. Empty when the schema check already failed.</summary>
    public required IReadOnlyList<RestoreTablePlan> Tables { get; init; }

    /// <summary>Keys used by other tenants, and what would happen to them.</summary>
    public required IReadOnlyList<KeyCollisionInfo> Collisions { get; init; }

    /// <summary>Foreign key cycles among the restored tables and how each would be broken.</summary>
    public required IReadOnlyList<ScopeCycle> Cycles { get; init; }

    /// <summary>Every difference between the archive's schema and the target's.</summary>
    public required IReadOnlyList<SchemaDifference> SchemaDifferences { get; init; }

    /// <summary>Tenant files that would be put in place, and where.</summary>
    public required int Files { get; init; }

    /// <summary>Where the files would go, when there are any.</summary>
    public IReadOnlyList<string> FilesDestinations { get; init; } = [];

    /// <summary>What would stop the restore, one sentence each.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>The archive file.</summary>
    public required string Path { get; init; }
}
