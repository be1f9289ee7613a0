using TenantBackup.Engine.Logging;

namespace TenantBackup.PowerShell.Internal;

/// <summary>
/// The engine's log during one cmdlet operation: entries the user asked to see (warnings; <c>-Verbose</c>, <c>-Debug</c>)
/// go to the pipeline thread through the queue, and entries at the <c>-LogPath</c> file's level go to that file.
/// </summary>
internal sealed class CmdletLog : IEngineLog
{
    private readonly EngineLogLevel _streamLevel;
    private readonly PipelineQueue _queue;
    private readonly RunLogFile? _file;

    public CmdletLog(EngineLogLevel streamLevel, PipelineQueue queue, RunLogFile? file)
    {
        _streamLevel = streamLevel;
        _queue = queue;
        _file = file;
    }

    /// <inheritdoc/>
    public bool IsEnabled(EngineLogLevel level) => level >= _streamLevel || (_file is not null && level >= _file.MinimumLevel);

    /// <inheritdoc/>
    public void Write(EngineLogLevel level, string message)
    {
        if (level >= _streamLevel)
        {
            _queue.Post(new LogMessage(level, message));
        }

        _file?.Write(level, message);
    }
}
