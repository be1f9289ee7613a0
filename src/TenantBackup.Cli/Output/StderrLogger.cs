using Microsoft.Extensions.Logging;

namespace TenantBackup.Cli.Output;

/// <summary>The engine's log on stderr: warnings always, the steps with <c>--verbose</c>.</summary>
internal sealed class StderrLogger : ILogger
{
    private readonly TextWriter _stderr;
    private readonly LogLevel _minimumLevel;

    /// <summary>Writes entries from <paramref name="minimumLevel"/> up to <paramref name="stderr"/> (thread-safe writer).</summary>
    public StderrLogger(TextWriter stderr, LogLevel minimumLevel)
    {
        _stderr = stderr;
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

        var label = logLevel switch
        {
            >= LogLevel.Warning => "warning: ",
            LogLevel.Information => string.Empty,
            _ => "debug: ",
        };
        _stderr.WriteLine($"tenantbackup: {label}{text}");
    }
}
