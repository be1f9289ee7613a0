using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Restore;

// The restore's traces in the repository: the safety backup taken first, and the history entry written last.
public sealed partial class RestoreEngine
{
    /// <summary>
    /// The target tenant's current rows (and files), as a <c>pre-restore</c> backup; none when the tenant has no rows yet.
    /// </summary>
    private async Task<BackupInfo?> SafetyBackupAsync(
        Context context, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new ProgressEvent("pre-backup", null, 0, 0, 0, 0));
        var metadata = context.Source.Metadata;
        var request = new BackupRequest
        {
            ConnectionString = context.Request.ConnectionString,
            Tenant = context.TargetTenant,
            TenantColumn = metadata.Tenant.Column,
            Repository = context.Source.OpenRepository(_logger).Root,
            Compression = ZstdNative.IsAvailable ? Compression.Zstd : Compression.Gzip,
            Schemas = context.Source.Schema.Tables.Select(t => t.Schema).Distinct(StringComparer.Ordinal).ToList(),
            IncludePaths = context.FileTargets.Select(t => t.Destination).Where(Directory.Exists).ToList(),
            Message = $"Before restoring backup {metadata.Id} into tenant {context.TargetTenant}",
            LockTimeout = context.Request.LockTimeout,
            Kind = BackupKinds.PreRestore,
            ParentId = metadata.Id,
            TenantLockHeld = true,

            // The safety backup holds the same tenant's data as the archive: it is kept as secret.
            Encryption = context.Request.Encryption,
        };
        try
        {
            var info = await new BackupEngine(_log).BackupAsync(request, null, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation(
                "Safety backup {Id} of tenant {Tenant} taken before the restore: {Path}", info.Id, context.TargetTenant, info.Path);
            return info;
        }
        catch (TenantBackupException e) when (e.Code == ErrorCode.TenantNotFound)
        {
            _logger.LogInformation("Tenant {Tenant} has no rows yet; no safety backup needed", context.TargetTenant);
            return null;
        }
    }

    /// <summary>Adds the restore to the restored backup's history. The data is committed by now: a failure here is a warning.</summary>
    private async Task RecordAsync(Context context, RestoreResult result)
    {
        var id = context.Source.Metadata.Id;
        var record = new RestoreRecord
        {
            Id = result.Id,
            RestoredAt = result.StartedAt,
            RestoredBy = $"{Environment.UserName}@{Environment.MachineName}",
            Database = result.Database,
            TargetTenant = result.TargetTenant,
            Mode = result.Mode,
            Tables = result.Tables.Count,
            Inserted = result.Inserted,
            Updated = result.Updated,
            Deleted = result.Deleted,
            Remapped = result.Remapped,
            Files = result.FilesRestored,
            PreRestoreBackupId = result.PreRestoreBackupId,
            RootValues = context.Request.RootValues.Count == 0
                ? null
                : new Dictionary<string, string?>(context.Request.RootValues, StringComparer.Ordinal),
        };
        try
        {
            var repository = context.Source.OpenRepository(_logger);
            var found = await repository.UpdateIndexAsync(
                index =>
                {
                    var entry = index.Backups.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.Ordinal));
                    if (entry is null)
                    {
                        return false;
                    }

                    (entry.Restores ??= []).Add(record);
                    return true;
                },
                CancellationToken.None).ConfigureAwait(false);
            if (!found)
            {
                _logger.LogWarning(
                    "Backup {Id} is not in the index of {Repository}, so the restore is not recorded in its history", id, repository.Root);
            }
        }
        catch (TenantBackupException e)
        {
            _logger.LogWarning("The restore succeeded but could not be recorded in the index: {Message}", e.Message);
        }
    }

    /// <summary>
    /// Removes the safety backup of a restore that failed, the way a prune removes one: archive, <c>.sha256</c> and
    /// entry together under the index lock, the entry only once the archive is gone.
    /// </summary>
    private async Task RemoveBackupAsync(BackupRepository repository, string id)
    {
        try
        {
            var request = new PruneRequest { Repository = repository.Root, Ids = [id], Force = true };
            var decisions = await Pruner.PruneAsync(request, approved: null, CancellationToken.None, log: _log).ConfigureAwait(false);
            var decision = decisions.Single();
            if (!decision.Removed)
            {
                _logger.LogWarning("The restore failed and its safety backup {Id} could not be removed: {Message}", id, decision.Error);
            }
        }
        catch (TenantBackupException e)
        {
            _logger.LogWarning("The restore failed and its safety backup {Id} could not be removed: {Message}", id, e.Message);
        }
    }
}
