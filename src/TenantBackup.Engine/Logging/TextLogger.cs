using Microsoft.Extensions.Logging;

namespace TenantBackup.Engine.Logging;

/// <summary>
/// An <see cref="ILogger"/> that hands each entry at or above a level, formatted as one line of text, to a front end's
/// writer (stderr for the CLI, the pipeline's streams for the cmdlets). Entries below the level are never formatted.
/// </summary>
public sealed class TextLogger : ILogger
{
    private readonly LogLevel _minimumLevel;
    private readonly Action<LogLevel, string> _write;

    /// <summary>Creates the logger; <paramref name="write"/> may be called from any thread.</summary>
    public TextLogger(LogLevel minimumLevel, Action<LogLevel, string> write)
    {
        _minimumLevel = minimumLevel;
        _write = write;
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

        _write(logLevel, text);
    }
}
