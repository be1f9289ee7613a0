using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TenantBackup.Engine.Backup;

/// <summary>Backs up one tenant into an archive in a repository.</summary>
public sealed class BackupEngine
{
    private readonly ILogger _logger;

    /// <summary>Creates the engine; the logger receives the steps of each run.</summary>
    public BackupEngine(ILogger? logger = null) => _logger = logger ?? NullLogger.Instance;

    /// <summary>Backs up the tenant named in <paramref name="request"/>, returning the new index entry.</summary>
    public Task<BackupInfo> BackupAsync(BackupRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        _logger.LogDebug("not implemented yet");
        throw new NotImplementedException();
    }
}
