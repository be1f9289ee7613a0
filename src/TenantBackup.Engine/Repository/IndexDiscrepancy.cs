namespace TenantBackup.Engine.Repository;

/// <summary>The kinds of disagreement between <c>backups.json</c> and the archives in the folder.</summary>
public enum IndexDiscrepancyKind
{
    /// <summary>The index lists a backup whose file is gone.</summary>
    Missing,

    /// <summary>An archive in the folder that the index does not list.</summary>
    Orphaned,

    /// <summary>The index and the file disagree on size, SHA-256 or status.</summary>
    Mismatched,

    /// <summary>The index itself could not be read; with <c>-Apply</c> it was set aside and rebuilt from the archives.</summary>
    IndexCorrupt,
}

/// <summary>One thing Sync-BackupIndex found, with what it did about it or, without <c>-Apply</c>, what it would do.</summary>
public sealed class IndexDiscrepancy
{
    /// <summary>What kind of disagreement.</summary>
    public required IndexDiscrepancyKind Kind { get; init; }

    /// <summary>The backup's id, when known (from the index or the archive's own <c>tenantbackup.json</c>).</summary>
    public string? Id { get; init; }

    /// <summary>The backup's tenant value, when known.</summary>
    public string? Tenant { get; init; }

    /// <summary>Full path of the archive (or of the index, for <see cref="IndexDiscrepancyKind.IndexCorrupt"/>).</summary>
    public required string Path { get; init; }

    /// <summary>What disagrees, for people.</summary>
    public required string Detail { get; init; }

    /// <summary>
    /// The repair: done when <see cref="Applied"/>, else proposed; <c>none: ...</c> when the index cannot repair it.
    /// </summary>
    public required string Action { get; init; }

    /// <summary>True when the index was changed for this discrepancy.</summary>
    public bool Applied { get; init; }

    /// <summary>The repository folder.</summary>
    public required string Repository { get; init; }
}
