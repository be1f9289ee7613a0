namespace TenantBackup.Engine.Logging;

/// <summary>How much an engine log entry matters; the values match <c>Microsoft.Extensions.Logging.LogLevel</c>.</summary>
public enum EngineLogLevel
{
    /// <summary>Finest detail, for tracing a problem.</summary>
    Trace = 0,

    /// <summary>Detail of a step: blocks written, files removed.</summary>
    Debug = 1,

    /// <summary>A step of the run: tables exported, backup recorded.</summary>
    Information = 2,

    /// <summary>Something went wrong but the run goes on, or something the operator should fix.</summary>
    Warning = 3,

    /// <summary>The run failed.</summary>
    Error = 4,
}

/// <summary>
/// Where the engine writes the steps of a run, one line of text per entry. The front ends implement it (stderr for the CLI,
/// the pipeline's streams and <c>-LogPath</c> for the cmdlets). It is the engine's own type so that a front end needs no
/// logging library: the module loads the engine's dependencies into a private load context, and only engine types may
/// cross into it.
/// </summary>
public interface IEngineLog
{
    /// <summary>Whether entries of <paramref name="level"/> are wanted; the engine does not even format the others.</summary>
    bool IsEnabled(EngineLogLevel level);

    /// <summary>Writes one entry. May be called from any thread, never for a level <see cref="IsEnabled"/> refused.</summary>
    void Write(EngineLogLevel level, string message);
}
