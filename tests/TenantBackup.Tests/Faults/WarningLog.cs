using Microsoft.Extensions.Logging;

namespace TenantBackup.Tests.Faults;

/// <summary>Collects the engine's warnings, where it reports what a killed run left and how it was cleaned up.</summary>
internal sealed class WarningLog : ILogger
{
    public List<string> Warnings { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(
        LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.Warning)
        {
            lock (Warnings)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }

    public bool Has(string text) => Warnings.Exists(w => w.Contains(text, StringComparison.Ordinal));

    public override string ToString() => Warnings.Count == 0 ? "(no warnings)" : string.Join(Environment.NewLine, Warnings);
}
