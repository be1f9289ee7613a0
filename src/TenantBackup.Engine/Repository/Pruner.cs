using TenantBackup.Engine.Logging;

namespace TenantBackup.Engine.Repository;

/// <summary>
/// Removes backups from a repository by id or by retention policy: archive, <c>.sha256</c> and index entry together,
/// under the index lock. <see cref="Plan"/> decides without writing anything (a dry run); <see cref="PruneAsync"/>
/// decides again under the lock, so a backup added or removed in between cannot make it drop the last valid one.
/// </summary>
public static class Pruner
{
    /// <summary>What <paramref name="request"/> would keep and remove, and why; writes nothing.</summary>
    /// <param name="request">Ids or policy.</param>
    /// <param name="now">The moment <c>OlderThan</c> counts from; null means now.</param>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.InvalidArgument"/> for a bad request; <see cref="ErrorCode.ArchiveNotFound"/> for an id the
    /// index does not list; repository and index errors.
    /// </exception>
    public static IReadOnlyList<PruneDecision> Plan(PruneRequest request, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var repository = BackupRepository.Open(request.Repository);
        var index = repository.ReadIndex();
        return Decide(index, request, now ?? DateTimeOffset.UtcNow)
            .Select(o => ToDecision(repository, Entry(index, o.Backup.Id), o.Action, o.Reasons, removed: false, error: null))
            .ToList();
    }

    /// <summary>
    /// Removes what <paramref name="request"/> lets go and returns every decision. A file that cannot be deleted keeps
    /// its index entry and its decision carries the <see cref="PruneDecision.Error"/>; the others go on.
    /// </summary>
    /// <param name="request">Ids or policy.</param>
    /// <param name="approved">
    /// When given, only these ids may be removed (those the operator confirmed after a <see cref="Plan"/>); any other
    /// backup the rules would remove is kept with the reason <c>not confirmed</c>.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait for the index lock.</param>
    /// <param name="now">The moment <c>OlderThan</c> counts from; null means now.</param>
    /// <param name="log">Receives the warning when the index lock is taken over from a holder that died.</param>
    /// <exception cref="TenantBackupException">As <see cref="Plan"/>, and <see cref="ErrorCode.IndexLocked"/>.</exception>
    public static Task<IReadOnlyList<PruneDecision>> PruneAsync(
        PruneRequest request,
        IReadOnlySet<string>? approved,
        CancellationToken cancellationToken,
        DateTimeOffset? now = null,
        IEngineLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var repository = BackupRepository.Open(request.Repository);
        repository.Logger = EngineLogger.For(log);
        var at = now ?? DateTimeOffset.UtcNow;
        return repository.UpdateIndexAsync<IReadOnlyList<PruneDecision>>(
            index =>
            {
                var decisions = new List<PruneDecision>();
                foreach (var outcome in Decide(index, request, at))
                {
                    var entry = Entry(index, outcome.Backup.Id);
                    if (outcome.Action == PruneAction.Keep)
                    {
                        decisions.Add(ToDecision(repository, entry, PruneAction.Keep, outcome.Reasons, removed: false, error: null));
                    }
                    else if (approved is not null && !approved.Contains(entry.Id))
                    {
                        decisions.Add(ToDecision(repository, entry, PruneAction.Keep, ["not confirmed"], removed: false, error: null));
                    }
                    else
                    {
                        var (removed, error) = DeleteFiles(repository.FullPath(entry));
                        if (removed)
                        {
                            index.Backups.Remove(entry);
                        }

                        decisions.Add(ToDecision(repository, entry, PruneAction.Remove, outcome.Reasons, removed, error));
                    }
                }

                return decisions;
            },
            cancellationToken,
            request.LockTimeout);
    }

    private static IReadOnlyList<RetentionOutcome> Decide(IndexDocument index, PruneRequest request, DateTimeOffset now)
    {
        var candidates = index.Backups
            .Select(e => new RetentionCandidate(e.Id, e.Tenant, e.CreatedAt, e.Kind, e.Status, e.LastVerifyResult));
        if (request.Policy is { } policy)
        {
            var tenant = request.Tenant;
            var ofTenant = candidates.Where(c => tenant is null || string.Equals(c.Tenant, tenant, StringComparison.Ordinal));
            return Retention.Apply(ofTenant, policy, now, request.Force);
        }

        var ids = request.Ids.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = ids
            .Where(id => !index.Backups.Exists(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new TenantBackupException(
                ErrorCode.ArchiveNotFound,
                $"No backup with id {string.Join(", ", unknown)} in the repository; nothing was removed. List them with Get-TenantBackup.",
                unknown[0]);
        }

        return Retention.Select(candidates, ids, request.Force);
    }

    // The archive first: if it cannot go, the backup stays whole and listed. Once it is gone the entry must go too,
    // even if the sidecar is stuck; the leftover sidecar is reported.
    private static (bool Removed, string? Error) DeleteFiles(string archive)
    {
        try
        {
            File.Delete(archive);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (false, $"Cannot delete '{archive}': {e.Message}. The backup stays in the index.");
        }

        var sidecar = archive + ".sha256";
        try
        {
            File.Delete(sidecar);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (true, $"The archive was removed but its checksum file '{sidecar}' could not be deleted: {e.Message}.");
        }

        return (true, null);
    }

    private static IndexEntry Entry(IndexDocument index, string id) =>
        index.Backups.First(e => string.Equals(e.Id, id, StringComparison.Ordinal));

    private static PruneDecision ToDecision(
        BackupRepository repository,
        IndexEntry entry,
        PruneAction action,
        IReadOnlyList<string> reasons,
        bool removed,
        string? error) => new()
    {
        Id = entry.Id,
        Tenant = entry.Tenant,
        CreatedAt = entry.CreatedAt,
        Kind = entry.Kind,
        Action = action,
        Reasons = reasons,
        Removed = removed,
        Path = repository.FullPath(entry),
        Status = entry.Status,
        Error = error,
    };
}
