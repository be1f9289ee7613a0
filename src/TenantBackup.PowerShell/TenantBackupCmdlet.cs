using System.Globalization;
using System.Management.Automation;
using TenantBackup.Engine;
using TenantBackup.Engine.Logging;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell;

/// <summary>
/// Base of the module's cmdlets. It owns the cancellation of the running engine operation (Ctrl+C / <c>StopProcessing</c>),
/// runs engine tasks on a worker thread while writing their progress and log on the pipeline thread, and turns engine
/// errors into <see cref="ErrorRecord"/>s. It is the only place that blocks on asynchronous code.
/// </summary>
public abstract class TenantBackupCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly List<string> _logSecrets = [];
    private RunLogFile? _runLog;
    private bool _disposed;

    /// <summary>
    /// <para type="description">File to append a JSON-lines record of the run to: one object per line with timestamp (UTC),
    /// level, cmdlet and message, and after each operation its outcome (ok, or error with the error id). Passwords are
    /// never written.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    /// <summary>Cancelled when the pipeline is stopped; engine calls get it so the SQL in flight is cancelled too.</summary>
    protected CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>Resolves a PowerShell path (relative to the current location, <c>~</c>, PSDrives) to a file-system path.</summary>
    protected string ResolvePath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>Cancels the engine operation in flight; the engine then cleans up and the command stops.</summary>
    protected sealed override void StopProcessing()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command has already ended.
        }
    }

    /// <summary>
    /// Runs an engine operation to completion on a worker thread, writing its progress (activity <paramref name="activityId"/>,
    /// always completed at the end) and its log on this, the pipeline thread.
    /// </summary>
    /// <returns>
    /// The operation's result, or null when it failed in a way that concerns only the current item: that error has been
    /// written and the caller goes on with the next item. Any other engine error ends the command with
    /// <c>ThrowTerminatingError</c>; a stop request ends it with <see cref="PipelineStoppedException"/>.
    /// </returns>
    /// <param name="activityId">The cmdlet's fixed progress activity id.</param>
    /// <param name="activity">The progress activity text, e.g. <c>Backing up tenant 42</c>.</param>
    /// <param name="target">What the operation is about; the target of an error that names none.</param>
    /// <param name="operation">The engine call: gets the log, the progress sink and the cancellation token to pass on.</param>
    protected T? RunEngine<T>(
        int activityId,
        string activity,
        object? target,
        Func<IEngineLog, IProgress<ProgressEvent>, CancellationToken, Task<T>> operation)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(operation);
        var runLog = OpenRunLog();
        runLog?.Write(EngineLogLevel.Information, activity);
        using var queue = new PipelineQueue();
        var log = new CmdletLog(MinimumLogLevel(), queue, runLog);
        var outcomeLogged = false;
        var token = _cancellation.Token;
        var task = Task.Run(() => operation(log, queue, token), token);
        _ = task.ContinueWith(
            static (_, state) => ((PipelineQueue)state!).Complete(),
            queue,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        T? result = null;
        ErrorRecord? failure = null;
        try
        {
            // Write* may throw PowerShell's own flow-control exceptions (stopped pipeline, -WarningAction Stop...):
            // those pass through untouched; only the engine's outcome is mapped.
            // The host's stop request normally arrives through StopProcessing; checking Stopping while idle also
            // catches a stop that reached the pipeline without it, so Ctrl+C always cancels the engine.
            foreach (var message in queue.Drain(() =>
            {
                if (Stopping)
                {
                    StopProcessing();
                }
            }))
            {
                Write(message, queue, activityId, activity);
            }

            try
            {
                result = task.GetAwaiter().GetResult();
                runLog?.Outcome(activity + ": done", errorId: null);
            }
            catch (Exception ex) when (_cancellation.IsCancellationRequested && IsCancellation(ex))
            {
                throw new PipelineStoppedException();
            }
            catch (Exception ex)
            {
                failure = ErrorIds.ToErrorRecord(ex, target);
                runLog?.Outcome(ex.Message, failure.FullyQualifiedErrorId);
            }

            outcomeLogged = true;
        }
        finally
        {
            // Only a Write* call that threw leaves the task running: stop it and let the engine clean up before we go.
            if (!task.IsCompleted)
            {
                StopProcessing();
                try
                {
                    task.Wait(CancellationToken.None);
                }
                catch (Exception)
                {
                    // The exception that brought us here is the one to report.
                }
            }

            if (!outcomeLogged)
            {
                // Stopped (Ctrl+C, or a stream whose preference is Stop), and the engine has cleaned up.
                runLog?.Outcome(activity + ": stopped", ErrorIds.IdOf(ErrorCode.Cancelled));
            }

            try
            {
                WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
            catch (PipelineStoppedException)
            {
                // Stopping: the host removes the bar anyway.
            }
        }

        if (failure is null)
        {
            return result;
        }

        if (failure.Exception is TenantBackupException { Code: var code } && ErrorIds.IsItemError(code))
        {
            WriteError(failure);
            return null;
        }

        ThrowTerminatingError(failure);
        return null;
    }

    /// <summary>Ends the command with the record of an engine error (used outside <see cref="RunEngine"/>).</summary>
    protected void ThrowEngineError(TenantBackupException exception, object? target)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var record = ErrorIds.ToErrorRecord(exception, target);
        OpenRunLog()?.Outcome(exception.Message, record.FullyQualifiedErrorId);
        ThrowTerminatingError(record);
    }

    /// <summary>Records in the <c>-LogPath</c> file that an operation run without <see cref="RunEngine"/> succeeded.</summary>
    protected void LogSuccess(string message) => OpenRunLog()?.Outcome(message, errorId: null);

    /// <summary>Never writes <paramref name="secret"/> (a password) to the <c>-LogPath</c> file.</summary>
    protected void AddLogSecret(string? secret)
    {
        if (!string.IsNullOrEmpty(secret))
        {
            _logSecrets.Add(secret);
            _runLog?.AddSecret(secret);
        }
    }

    // Opened once per command, on its first operation, and kept until the command ends.
    private RunLogFile? OpenRunLog()
    {
        if (_runLog is not null || LogPath is null)
        {
            return _runLog;
        }

        var level = (EngineLogLevel)Math.Min((int)EngineLogLevel.Information, (int)MinimumLogLevel());
        try
        {
            _runLog = RunLogFile.Open(ResolvePath(LogPath), MyInvocation.MyCommand.Name, level);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException
            or System.Security.SecurityException or RuntimeException)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.LogPathUnavailable, ErrorCategory.OpenError, LogPath));
        }

        foreach (var secret in _logSecrets)
        {
            _runLog!.AddSecret(secret);
        }

        return _runLog;
    }

    /// <summary>Releases the cancellation source and closes the <c>-LogPath</c> file.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the cancellation source and the log file when <paramref name="disposing"/>.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _cancellation.Dispose();
            _runLog?.Dispose();
        }

        _disposed = true;
    }

    private static bool IsCancellation(Exception ex)
        => ex is OperationCanceledException or TenantBackupException { Code: ErrorCode.Cancelled };

    private void Write(PipelineMessage message, PipelineQueue queue, int activityId, string activity)
    {
        switch (message)
        {
            case ProgressChanged:
                if (queue.TakeProgress() is { } progress)
                {
                    WriteProgress(ToProgressRecord(progress, activityId, activity));
                }

                break;
            case LogMessage { Level: >= EngineLogLevel.Warning } log:
                WriteWarning(log.Text);
                break;
            case LogMessage { Level: EngineLogLevel.Information } log:
                WriteVerbose(log.Text);
                break;
            case LogMessage log:
                WriteDebug(log.Text);
                break;
        }
    }

    /// <summary>The progress record for an engine event: percent by tables, rows and size in the status line.</summary>
    internal static ProgressRecord ToProgressRecord(ProgressEvent progress, int activityId, string activity)
    {
        var culture = CultureInfo.CurrentCulture;
        var status = progress.TablesTotal > 0
            ? string.Format(
                culture,
                "{0}: {1} of {2} tables, {3:N0} rows, {4}",
                progress.Phase,
                progress.TablesDone,
                progress.TablesTotal,
                progress.RowsDone,
                ByteSize.Format(progress.BytesDone))
            : progress.Phase;
        var record = new ProgressRecord(activityId, activity, string.IsNullOrEmpty(status) ? "Working" : status)
        {
            PercentComplete = progress.TablesTotal > 0 ? Math.Clamp(progress.TablesDone * 100 / progress.TablesTotal, 0, 100) : -1,
        };
        if (!string.IsNullOrEmpty(progress.Table))
        {
            record.CurrentOperation = progress.Table;
        }

        return record;
    }

    // Engine entries below what the user will see are not even formatted: -Debug shows everything, -Verbose from
    // Information up, otherwise only warnings.
    private EngineLogLevel MinimumLogLevel()
    {
        if (IsStreamOn("Debug", "DebugPreference"))
        {
            return EngineLogLevel.Trace;
        }

        return IsStreamOn("Verbose", "VerbosePreference") ? EngineLogLevel.Information : EngineLogLevel.Warning;
    }

    private bool IsStreamOn(string commonParameter, string preferenceVariable)
    {
        if (MyInvocation.BoundParameters.TryGetValue(commonParameter, out var bound))
        {
            return bound is SwitchParameter switchParameter ? switchParameter.IsPresent : LanguagePrimitives.IsTrue(bound);
        }

        return LanguagePrimitives.TryConvertTo(GetVariableValue(preferenceVariable), out ActionPreference preference)
            && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    }
}
