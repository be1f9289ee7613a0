using TenantBackup.Engine;

namespace TenantBackup.Cli.Output;

/// <summary>
/// Progress on stderr, one line per phase and table (the engine reports every block; a log of those would be noise).
/// Safe to call from the engine's parallel workers.
/// </summary>
internal sealed class StderrProgress : IProgress<ProgressEvent>
{
    private readonly TextWriter _stderr;
    private readonly HashSet<(string Phase, string? Table)> _shown = [];

    /// <summary>Writes to <paramref name="stderr"/>, which must be thread-safe (<see cref="TextWriter.Synchronized"/>).</summary>
    public StderrProgress(TextWriter stderr) => _stderr = stderr;

    /// <inheritdoc/>
    public void Report(ProgressEvent value)
    {
        lock (_shown)
        {
            if (!_shown.Add((value.Phase, value.Table)))
            {
                return;
            }
        }

        _stderr.WriteLine(value.Table is null
            ? $"tenantbackup: {value.Phase}"
            : $"tenantbackup: {value.Phase} {value.Table} ({value.TablesDone}/{value.TablesTotal} tables done)");
    }
}
