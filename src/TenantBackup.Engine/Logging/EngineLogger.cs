using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TenantBackup.Engine.Logging;

/// <summary>
/// The engine logs through <see cref="ILogger"/> inside (message templates, formatted only when enabled); this turns a
/// front end's <see cref="IEngineLog"/> into one, so that type never shows in the engine's public API.
/// </summary>
internal sealed class EngineLogger : ILogger
{
    private readonly IEngineLog _log;

    private EngineLogger(IEngineLog log) => _log = log;

    /// <summary>The logger for <paramref name="log"/>; a logger that drops everything when it is null.</summary>
    public static ILogger For(IEngineLog? log) => log is null ? NullLogger.Instance : new EngineLogger(log);

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => ToEngineLevel(logLevel) is { } level && _log.IsEnabled(level);

    /// <inheritdoc/>
    public void Log<TState>(
        LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (ToEngineLevel(logLevel) is not { } level || !_log.IsEnabled(level))
        {
            return;
        }

        var text = formatter(state, exception);
        if (exception is not null)
        {
            text = string.IsNullOrEmpty(text) ? exception.Message : $"{text} ({exception.Message})";
        }

        _log.Write(level, text);
    }

    // Critical is an error to the front ends; None is no entry at all.
    private static EngineLogLevel? ToEngineLevel(LogLevel level) => level switch
    {
        LogLevel.None => null,
        >= LogLevel.Error => EngineLogLevel.Error,
        _ => (EngineLogLevel)(int)level,
    };
}
