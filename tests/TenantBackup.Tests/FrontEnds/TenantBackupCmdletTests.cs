using System.Management.Automation;
using Microsoft.Extensions.Logging;
using TenantBackup.Engine;
using TenantBackup.Engine.Logging;
using TenantBackup.PowerShell;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>A cmdlet that runs whatever engine operation the test passes in, through TenantBackupCmdlet.RunEngine.</summary>
[Cmdlet(VerbsDiagnostic.Test, "EngineRun")]
[OutputType(typeof(BackupInfo))]
public sealed class TestEngineRunCommand : TenantBackupCmdlet
{
    public const int ActivityId = 0x7BFF;

    [Parameter(Mandatory = true)]
    public Func<IEngineLog, IProgress<ProgressEvent>, CancellationToken, Task<BackupInfo>> Operation { get; set; } = null!;

    [Parameter(ValueFromPipeline = true)]
    public string Item { get; set; } = "item";

    protected override void ProcessRecord()
    {
        var result = RunEngine(ActivityId, "Testing " + Item, Item, Operation);
        if (result is not null)
        {
            WriteObject(result);
        }
    }
}

/// <summary>TenantBackupCmdlet in a real PowerShell pipeline: streams, progress, error records, stopping.</summary>
public class TenantBackupCmdletTests
{
    private static readonly BackupInfo Result = GetTenantBackupFilterTests.Backup("0001", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch);

    private static System.Management.Automation.PowerShell Session(
        Func<ILogger, IProgress<ProgressEvent>, CancellationToken, Task<BackupInfo>> operation)
    {
        var ps = PowerShellSession.Create(("Test-EngineRun", typeof(TestEngineRunCommand)));
        // The engine's own ILogger over the cmdlet's log, as the engines use it.
        Func<IEngineLog, IProgress<ProgressEvent>, CancellationToken, Task<BackupInfo>> run =
            (log, progress, token) => operation(EngineLogger.For(log), progress, token);
        ps.AddCommand("Test-EngineRun").AddParameter("Operation", run);
        return ps;
    }

    [Fact]
    public void ProgressAndLogReachTheirStreamsAndTheBarIsCompleted()
    {
        using var ps = Session(async (logger, progress, token) =>
        {
            progress.Report(new ProgressEvent("export", "public.invoices", 0, 2, 0, 0));
            logger.LogInformation("exporting {Table}", "public.invoices");
            logger.LogDebug("block of {Bytes} bytes", 65536);
            logger.LogWarning("libzstd not found; using gzip");
            await Task.Yield();
            progress.Report(new ProgressEvent("export", "public.customers", 1, 2, 1000, 65536));
            return Result;
        });
        ps.AddParameter("Verbose");

        var output = ps.Invoke();

        Assert.Same(Result, Assert.Single(output).BaseObject);
        Assert.Equal(["exporting public.invoices"], ps.Streams.Verbose.Select(v => v.Message));
        Assert.Empty(ps.Streams.Debug);
        Assert.Equal(["libzstd not found; using gzip"], ps.Streams.Warning.Select(w => w.Message));

        var progress = ps.Streams.Progress.Where(p => p.ActivityId == TestEngineRunCommand.ActivityId).ToList();
        Assert.True(progress.Count >= 2);
        Assert.All(progress, p => Assert.Equal("Testing item", p.Activity));
        Assert.Equal(ProgressRecordType.Completed, progress[^1].RecordType);

        // Bursts are coalesced, so the first report may be skipped, never the newest.
        Assert.Equal("public.customers", progress.Last(p => p.RecordType == ProgressRecordType.Processing).CurrentOperation);
    }

    [Fact]
    public void DebugShowsTheEnginesDebugEntries()
    {
        using var ps = Session((logger, _, _) =>
        {
            logger.LogDebug("block of {Bytes} bytes", 65536);
            logger.LogTrace("trace entry");
            return Task.FromResult(Result);
        });
        ps.AddParameter("Debug");

        ps.Invoke();

        Assert.Equal(["block of 65536 bytes", "trace entry"], ps.Streams.Debug.Select(d => d.Message));
    }

    [Fact]
    public void WithoutVerboseTheStepsAreNotEvenFormatted()
    {
        var enabled = true;
        using var ps = Session((logger, _, _) =>
        {
            enabled = logger.IsEnabled(LogLevel.Information);
            return Task.FromResult(Result);
        });

        ps.Invoke();

        Assert.False(enabled);
        Assert.Empty(ps.Streams.Verbose);
    }

    [Fact]
    public void AnErrorAboutTheItemIsWrittenAndTheNextItemRuns()
    {
        using var ps = Session(
            (_, _, _) => throw new TenantBackupException(ErrorCode.TenantLocked, "Tenant 42 is locked by a restore.", "42"));

        var error = ps.InvokeCatching(out _);
        Assert.Null(error);

        var records = ps.Streams.Error.ToList();
        var record = Assert.Single(records);
        Assert.StartsWith("TenantLocked,", record.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.ResourceBusy, record.CategoryInfo.Category);
        Assert.Equal("42", record.TargetObject);
        Assert.Equal("Tenant 42 is locked by a restore.", record.Exception.Message);
    }

    [Fact]
    public void ItemErrorsDoNotStopThePipeline()
    {
        var calls = 0;
        using var ps = Session((_, _, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new TenantBackupException(ErrorCode.TenantNotFound, "No tenant.");
        });

        var output = ps.Invoke(new[] { "a", "b", "c" });

        Assert.Empty(output);
        Assert.Equal(3, calls);
        Assert.Equal(["a", "b", "c"], ps.Streams.Error.Select(e => (string)e.TargetObject));
        Assert.All(ps.Streams.Error, e => Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category));
    }

    [Theory]
    [InlineData(ErrorCode.SchemaMismatch, ErrorCategory.InvalidData)]
    [InlineData(ErrorCode.KeyCollision, ErrorCategory.ResourceExists)]
    [InlineData(ErrorCode.ArchiveCorrupt, ErrorCategory.InvalidData)]
    public void ARefusedRestoreConcernsOneBackupAndTheNextOneRuns(ErrorCode code, ErrorCategory category)
    {
        var calls = 0;
        using var ps = Session((_, _, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new TenantBackupException(code, "Refused.");
        });

        var output = ps.Invoke(new[] { "a", "b" });

        Assert.Empty(output);
        Assert.Equal(2, calls);
        Assert.Equal([code.ToString(), code.ToString()], ps.Streams.Error.Select(e => e.FullyQualifiedErrorId.Split(',')[0]));
        Assert.All(ps.Streams.Error, e => Assert.Equal(category, e.CategoryInfo.Category));
    }

    [Fact]
    public void OnlyErrorsAboutOneTenantOrOneBackupAreItemErrors()
    {
        ErrorCode[] itemErrors =
        [
            ErrorCode.TenantNotFound, ErrorCode.InvalidTenantValue, ErrorCode.TenantLocked, ErrorCode.ArchiveNotFound,
            ErrorCode.ArchiveCorrupt, ErrorCode.ChecksumMismatch, ErrorCode.SchemaMismatch, ErrorCode.KeyCollision,
            ErrorCode.DecryptionFailed,
        ];

        Assert.Equal(itemErrors.Order(), Enum.GetValues<ErrorCode>().Where(ErrorIds.IsItemError).Order());
    }

    [Fact]
    public void AnErrorThatWouldFailEveryItemStopsTheCommand()
    {
        var calls = 0;
        using var ps = Session((_, progress, _) =>
        {
            Interlocked.Increment(ref calls);
            progress.Report(new ProgressEvent("scope", null, 0, 0, 0, 0));
            throw new TenantBackupException(ErrorCode.ConnectionFailed, "Cannot reach db1:5432.", "db1:5432");
        });

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.Equal(1, calls);
        Assert.StartsWith("ConnectionFailed,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        Assert.Equal("db1:5432", error.TargetObject);
        Assert.Equal(
            ProgressRecordType.Completed, ps.Streams.Progress.Last(p => p.ActivityId == TestEngineRunCommand.ActivityId).RecordType);
    }

    [Fact]
    public void AnUnexplainedExceptionIsAnUnexpectedErrorThatKeepsTheException()
    {
        using var ps = Session((_, _, _) => throw new InvalidOperationException("bug"));

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.StartsWith(ErrorIds.UnexpectedError + ",", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.Exception);
        Assert.Equal("item", error.TargetObject);
    }

    [Fact]
    public async Task StopCancelsTheEngineTokenAndEndsQuietly()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var ps = Session(async (_, _, token) =>
        {
            // Not disposed here: cancelling may resume this method (the Delay's callback runs first) and a disposed
            // registration would then never run.
            token.Register(() => cancelled.TrySetResult());
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            return Result;
        });

        var invocation = ps.BeginInvoke();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        ps.Stop();

        // Stop() may return while the token's callbacks still run on PowerShell's stopping thread.
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(invocation));
        Assert.Empty(ps.Streams.Error);
    }

    [Fact]
    public void EveryEngineCodeHasACategory()
    {
        Assert.Equal(Enum.GetValues<ErrorCode>().Order(), ErrorIds.Categories.Keys.Order());
        Assert.DoesNotContain(ErrorCategory.NotSpecified, ErrorIds.Categories.Values);
    }

    [Theory]
    [InlineData(ErrorCode.TenantNotFound, ErrorCategory.ObjectNotFound)]
    [InlineData(ErrorCode.TenantLocked, ErrorCategory.ResourceBusy)]
    [InlineData(ErrorCode.ArchiveCorrupt, ErrorCategory.InvalidData)]
    [InlineData(ErrorCode.ChecksumMismatch, ErrorCategory.InvalidData)]
    [InlineData(ErrorCode.PermissionDenied, ErrorCategory.PermissionDenied)]
    [InlineData(ErrorCode.RowLevelSecurity, ErrorCategory.PermissionDenied)]
    [InlineData(ErrorCode.AuthenticationFailed, ErrorCategory.AuthenticationError)]
    [InlineData(ErrorCode.ConnectionFailed, ErrorCategory.ConnectionError)]
    [InlineData(ErrorCode.InvalidArgument, ErrorCategory.InvalidArgument)]
    [InlineData(ErrorCode.IOError, ErrorCategory.WriteError)]
    [InlineData(ErrorCode.SchemaMismatch, ErrorCategory.InvalidData)]
    [InlineData(ErrorCode.KeyCollision, ErrorCategory.ResourceExists)]
    [InlineData(ErrorCode.Cancelled, ErrorCategory.OperationStopped)]
    [InlineData(ErrorCode.DatabaseNotFound, ErrorCategory.ObjectNotFound)]
    public void ErrorRecordsCarryTheCodeAsIdTheCategoryAndTheTarget(ErrorCode code, ErrorCategory category)
    {
        var record = ErrorIds.ToErrorRecord(new TenantBackupException(code, "message", "the target"), "fallback");

        Assert.Equal(code.ToString(), record.FullyQualifiedErrorId);
        Assert.Equal(category, record.CategoryInfo.Category);
        Assert.Equal("the target", record.TargetObject);
        Assert.Equal("fallback", ErrorIds.ToErrorRecord(new TenantBackupException(code, "message"), "fallback").TargetObject);
    }

    [Fact]
    public void ProgressRecordsShowTablesRowsAndSize()
    {
        var record = TenantBackupCmdlet.ToProgressRecord(
            new ProgressEvent("export", "public.invoices", 3, 12, 12345, 3 * 1024 * 1024), 7, "Backing up tenant 42");

        Assert.Equal(7, record.ActivityId);
        Assert.Equal(25, record.PercentComplete);
        Assert.Equal("public.invoices", record.CurrentOperation);
        Assert.Contains("3 of 12 tables", record.StatusDescription, StringComparison.Ordinal);
        Assert.Contains("3.0 MB", record.StatusDescription, StringComparison.Ordinal);
        Assert.Equal(-1, TenantBackupCmdlet.ToProgressRecord(new ProgressEvent("scope", null, 0, 0, 0, 0), 7, "x").PercentComplete);
    }
}
