using TenantBackup.Engine.Logging;

namespace TenantBackup.Tests.Faults;

/// <summary>Collects the engine's warnings, where it reports what a killed run left and how it was cleaned up.</summary>
internal sealed class WarningLog : IEngineLog
{
    public List<string> Warnings { get; } = [];

    public bool IsEnabled(EngineLogLevel level) => level >= EngineLogLevel.Warning;

    public void Write(EngineLogLevel level, string message)
    {
        if (level == EngineLogLevel.Warning)
        {
            lock (Warnings)
            {
                Warnings.Add(message);
            }
        }
    }

    public bool Has(string text) => Warnings.Exists(w => w.Contains(text, StringComparison.Ordinal));

    public override string ToString() => Warnings.Count == 0 ? "(no warnings)" : string.Join(Environment.NewLine, Warnings);
}
