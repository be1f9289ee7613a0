using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Logging;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Integrity;

/// <summary>
/// Checks backups without restoring them for real (design §Repository and index): the archive's SHA-256 against its
/// <c>.sha256</c> and the index, every entry against <c>manifest.json</c>, <c>tenantbackup.json</c> and <c>schema.json</c>
/// against each other, and optionally a restore that is always rolled back. Damage is a result, not an error; the index
/// records when each listed backup was checked and what was found.
/// </summary>
public sealed partial class IntegrityEngine
{
    private readonly IEngineLog? _log;
    private readonly ILogger _logger;

    /// <summary>Creates the engine; <paramref name="log"/> receives the steps of each run.</summary>
    public IntegrityEngine(IEngineLog? log = null)
    {
        _log = log;
        _logger = EngineLogger.For(log);
    }

    private sealed record Target(string? Id, string? Path, BackupRepository? Repository, IndexEntry? Entry);

    /// <summary>Checks the backups <paramref name="request"/> names (all of the repository's when it names none).</summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.InvalidArgument"/> for a test restore without a connection string;
    /// <see cref="ErrorCode.RepositoryError"/> or <see cref="ErrorCode.IndexCorrupt"/> when the repository cannot be read.
    /// </exception>
    public async Task<IReadOnlyList<IntegrityResult>> VerifyAsync(
        IntegrityRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RestoreTest && request.Quick)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, "A test restore reads the whole archive; give -Quick or -RestoreTest, not both.", "Quick");
        }

        var targets = Targets(request);
        var results = new List<IntegrityResult>(targets.Count);
        for (int i = 0; i < targets.Count; i++)
        {
            // Counted in archives, not tables: the phase says which one, so it reads the same on stderr and in Write-Progress.
            progress?.Report(new ProgressEvent($"verify {i + 1}/{targets.Count} {targets[i].Path ?? targets[i].Id}", null, 0, 0, 0, 0));
            var result = await CheckAsync(targets[i], request, progress, cancellationToken).ConfigureAwait(false);
            await RecordAsync(targets[i], result).ConfigureAwait(false);
            results.Add(result);
        }

        return results;
    }

    private static List<Target> Targets(IntegrityRequest request)
    {
        var targets = new List<Target>();
        if (request.Ids.Count > 0 || request.Paths.Count == 0)
        {
            var repository = BackupRepository.Open(request.Repository);
            var entries = repository.ReadIndex().Backups;
            if (request.Ids.Count == 0)
            {
                targets.AddRange(entries.OrderBy(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal)
                    .Select(e => new Target(e.Id, repository.FullPath(e), repository, e)));
            }

            foreach (var id in request.Ids)
            {
                var entry = entries.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase));
                targets.Add(entry is null
                    ? new Target(id, null, repository, null)
                    : new Target(entry.Id, repository.FullPath(entry), repository, entry));
            }
        }

        foreach (var given in request.Paths)
        {
            var path = Path.GetFullPath(given);
            var repository = RepositoryOf(path, request.Repository);
            var entry = repository?.ReadIndex().Backups
                .FirstOrDefault(e => string.Equals(repository.FullPath(e), path, StringComparison.Ordinal));
            targets.Add(new Target(entry?.Id, path, repository, entry));
        }

        return targets;
    }

    // As a restore does: the repository named, else the archive's own folder when it has an index, else the default one.
    private static BackupRepository? RepositoryOf(string archive, string? named)
    {
        var folder = Path.GetDirectoryName(archive)!;
        var root = named ?? (File.Exists(Path.Combine(folder, BackupRepository.IndexFileName)) ? folder : BackupRepository.DefaultPath);
        return Directory.Exists(root) ? BackupRepository.Open(root) : null;
    }

    /// <summary>Notes the check in the backup's index entry; a failure to write it is a warning, the result stands.</summary>
    private async Task RecordAsync(Target target, IntegrityResult result)
    {
        if (target.Repository is null || target.Entry is null)
        {
            return;
        }

        try
        {
            target.Repository.Logger = _logger;
            await target.Repository.UpdateIndexAsync(
                index =>
                {
                    var entry = index.Backups.FirstOrDefault(e => string.Equals(e.Id, target.Entry.Id, StringComparison.Ordinal));
                    if (entry is null)
                    {
                        return;
                    }

                    entry.LastVerifiedAt = result.VerifiedAt;
                    entry.LastVerifyResult = result.Status.ToString();
                    entry.Status = result.Status switch
                    {
                        IntegrityStatus.Valid => BackupStatus.Available,
                        IntegrityStatus.Corrupt => BackupStatus.Corrupt,
                        IntegrityStatus.Missing => BackupStatus.Missing,
                        _ => entry.Status,
                    };
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (TenantBackupException e)
        {
            _logger.LogWarning(
                "Backup {Id} was checked ({Status}), but the index could not record it: {Message}",
                target.Entry.Id,
                result.Status,
                e.Message);
        }
    }
}
