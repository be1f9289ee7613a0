namespace TenantBackup.Engine.Repository;

/// <summary>
/// What to remove from a repository: the backups named by <see cref="Ids"/>, or those a <see cref="Policy"/> lets go
/// (of one <see cref="Tenant"/> or of every tenant, each on its own).
/// </summary>
public sealed record PruneRequest
{
    /// <summary>The repository folder; null means the default (<c>BackupRepository.DefaultPath</c>).</summary>
    public string? Repository { get; init; }

    /// <summary>With a policy: only this tenant's backups; null means every tenant.</summary>
    public string? Tenant { get; init; }

    /// <summary>The backups to remove by id; empty when a policy decides.</summary>
    public IReadOnlyList<string> Ids { get; init; } = [];

    /// <summary>The retention rules; null when ids are given.</summary>
    public RetentionPolicy? Policy { get; init; }

    /// <summary>Also remove a tenant's newest valid backup when the rules or ids say so.</summary>
    public bool Force { get; init; }

    /// <summary>How long to wait for the index lock; null means the repository's default.</summary>
    public TimeSpan? LockTimeout { get; init; }

    /// <summary>Refuses a request with both or neither of ids and policy, or an invalid policy.</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.InvalidArgument"/>.</exception>
    public void Validate()
    {
        if (Ids.Count > 0 == Policy is not null)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                "Give either the ids of the backups to remove or a retention policy (keep-last, keep-daily, keep-weekly, " +
                "keep-monthly, older-than), not both and not neither.",
                null);
        }

        Policy?.Validate();
    }
}
