using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using Xunit;

namespace TenantBackup.Tests.Repository;

public sealed class IndexLockTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tb-lock-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string LockPath => Path.Combine(_root, "backups.json.lock");

    [Fact]
    public async Task A_waiter_that_times_out_says_who_holds_the_lock()
    {
        using var held = await IndexLock.AcquireAsync(LockPath, TimeSpan.FromSeconds(5), CancellationToken.None);

        var error = await Assert.ThrowsAsync<TenantBackupException>(() =>
            IndexLock.AcquireAsync(LockPath, TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.Equal(ErrorCode.IndexLocked, error.Code);
        Assert.Contains($"held by process {Environment.ProcessId} on {Environment.MachineName} (", error.Message, StringComparison.Ordinal);
        Assert.Contains(" since ", error.Message, StringComparison.Ordinal);
        Assert.Contains("raise the timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_release_leaves_no_record_and_the_next_holder_takes_the_lock_without_a_warning()
    {
        using (await IndexLock.AcquireAsync(LockPath, TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            Assert.True(File.Exists(IndexLock.HolderPath(LockPath)));
        }

        Assert.False(File.Exists(IndexLock.HolderPath(LockPath)));
        var logger = new ListLogger();
        using (await IndexLock.AcquireAsync(LockPath, TimeSpan.FromSeconds(5), CancellationToken.None, logger))
        {
        }

        Assert.Empty(logger.Warnings);
    }

    [Fact]
    public async Task A_lock_left_by_a_process_that_is_gone_is_taken_over_with_a_warning()
    {
        int deadPid;
        using (var finished = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            await finished.WaitForExitAsync();
            deadPid = finished.Id;
        }

        var record = new
        {
            host = Environment.MachineName,
            processId = deadPid,
            command = "tenantbackup backup",
            since = DateTimeOffset.UtcNow.AddHours(-1),
        };
        await File.WriteAllTextAsync(IndexLock.HolderPath(LockPath), JsonSerializer.Serialize(record));
        var logger = new ListLogger();

        using (await IndexLock.AcquireAsync(LockPath, TimeSpan.FromSeconds(5), CancellationToken.None, logger))
        {
            var warning = Assert.Single(logger.Warnings);
            Assert.Contains($"process {deadPid} on {Environment.MachineName} (tenantbackup backup)", warning, StringComparison.Ordinal);
            Assert.Contains("no longer running", warning, StringComparison.Ordinal);
            using var now = JsonDocument.Parse(await File.ReadAllTextAsync(IndexLock.HolderPath(LockPath)));
            Assert.Equal(Environment.ProcessId, now.RootElement.GetProperty("processId").GetInt32());
        }
    }

    [Fact]
    public async Task A_backup_repository_reports_the_take_over_through_its_logger()
    {
        await File.WriteAllTextAsync(
            IndexLock.HolderPath(LockPath),
            "{\"host\":\"elsewhere\",\"processId\":1,\"command\":\"x\",\"since\":\"2026-01-01T00:00:00Z\"}");
        var repository = BackupRepository.Open(_root);
        var logger = new ListLogger();
        repository.Logger = logger;

        await repository.UpdateIndexAsync(_ => { }, CancellationToken.None);

        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("process 1 on elsewhere (x)", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("no longer running", warning, StringComparison.Ordinal);
        Assert.False(File.Exists(IndexLock.HolderPath(LockPath)));
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(
            LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
