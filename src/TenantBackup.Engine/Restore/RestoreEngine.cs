using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// Restores one tenant from an archive (design §Restore): the archive is verified before the database is touched,
/// and every change happens in one transaction, so a failure leaves the database, the files and the index as they were.
/// </summary>
public sealed class RestoreEngine
{
    private readonly ILogger _logger;

    /// <summary>Creates the engine; the logger receives the steps of each run.</summary>
    public RestoreEngine(ILogger? logger = null) => _logger = logger ?? NullLogger.Instance;

    /// <summary>What <see cref="RestoreAsync"/> would do with <paramref name="request"/>; changes nothing.</summary>
    public Task<RestorePlan> PlanAsync(RestoreRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        _logger.LogDebug("Planning restore of {Source}", request.BackupId ?? request.ArchivePath);
        throw new NotImplementedException();
    }

    /// <summary>Restores the backup named in <paramref name="request"/> and returns what was done.</summary>
    public Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        throw new NotImplementedException();
    }
}
