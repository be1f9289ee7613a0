namespace TenantBackup.Engine.Logging;

/// <summary>An <see cref="IEngineLog"/> that hands every entry at or above a level to a writer.</summary>
public sealed class TextLog : IEngineLog
{
    private readonly EngineLogLevel _minimumLevel;
    private readonly Action<EngineLogLevel, string> _write;

    /// <summary>Creates the log; <paramref name="write"/> may be called from any thread.</summary>
    public TextLog(EngineLogLevel minimumLevel, Action<EngineLogLevel, string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _minimumLevel = minimumLevel;
        _write = write;
    }

    /// <inheritdoc/>
    public bool IsEnabled(EngineLogLevel level) => level >= _minimumLevel;

    /// <inheritdoc/>
    public void Write(EngineLogLevel level, string message)
    {
        if (IsEnabled(level))
        {
            _write(level, message);
        }
    }
}
