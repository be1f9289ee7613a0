namespace TenantBackup.Engine.Repository;

/// <summary>What retention does with a backup.</summary>
public enum PruneAction
{
    /// <summary>The backup stays.</summary>
    Keep,

    /// <summary>The backup goes: archive, <c>.sha256</c> and index entry.</summary>
    Remove,
}

/// <summary>
/// One backup's fate in a prune or removal, with the reasons: what <c>Remove-TenantBackup</c> and
/// <c>tenantbackup prune</c> report, for a dry run as for the real thing.
/// </summary>
public sealed class PruneDecision
{
    /// <summary>The backup's id.</summary>
    public required string Id { get; init; }

    /// <summary>The tenant value.</summary>
    public required string Tenant { get; init; }

    /// <summary>When the backup was taken (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary><c>full</c> or <c>pre-restore</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Keep or remove.</summary>
    public required PruneAction Action { get; init; }

    /// <summary>Why, e.g. <c>last 3</c>, <c>daily 2026-11-20</c>, <c>newest valid backup of the tenant</c>.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>True once archive and index entry are gone; false for a dry run, a kept backup or a failed removal.</summary>
    public bool Removed { get; init; }

    /// <summary>Full path of the archive file.</summary>
    public required string Path { get; init; }

    /// <summary>The backup's index status: <c>available</c>, <c>missing</c> or <c>corrupt</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Why the removal failed, or what was left behind; null when all went well.</summary>
    public string? Error { get; init; }
}
