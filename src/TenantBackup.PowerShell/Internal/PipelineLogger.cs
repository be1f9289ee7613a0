using Microsoft.Extensions.Logging;

namespace TenantBackup.PowerShell.Internal;

/// <summary>
/// An <see cref="ILogger"/> for the engine that queues entries for the pipeline thread, which writes
/// Trace/Debug with <c>WriteDebug</c>, Information with <c>WriteVerbose</c> and Warning and above with <c>WriteWarning</c>.
/// </summary>
internal sealed class PipelineLogger : ILogger
{
    private readonly PipelineQueue _queue;
    private readonly LogLevel _minimumLevel;

    /// <summary>Creates the logger; entries below <paramref name="minimumLevel"/> are not even formatted.</summary>
    public PipelineLogger(PipelineQueue queue, LogLevel minimumLevel)
    {
        _queue = queue;
        _minimumLevel = minimumLevel;
    }

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _minimumLevel;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var text = formatter(state, exception);
        if (exception is not null)
        {
            text = string.IsNullOrEmpty(text) ? exception.Message : $"{text} ({exception.Message})";
        }

        _queue.Post(new LogMessage(logLevel, text));
    }
}
