using System.Diagnostics;
using System.Text.Json;
using TenantBackup.Cli;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Repository;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Faults;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;
using Xunit;

namespace TenantBackup.Tests.Repository;

/// <summary>
/// Every operation that writes the index says so when it takes over the index lock from a process that died holding it
/// (its holder record left behind), not only a backup; and it goes on and succeeds.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IndexLockTakeOverTests(PostgresFixture fixture) : IDisposable
{
    private const string TakeOver = "Took over the repository index lock";

    private readonly string _root = Directory.CreateTempSubdirectory("tb-takeover-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Sync_apply_warns_of_the_take_over_and_adopts_the_orphan()
    {
        using var repo = new SyncRepository();
        var orphan = await repo.AddAsync("7", indexed: false);
        var deadPid = await LeaveDeadHolderAsync(repo.Root);
        var log = new WarningLog();

        var found = await IndexSync.RunAsync(new IndexSyncRequest { Repository = repo.Root, Apply = true }, CancellationToken.None, log);

        AssertTakenOver(log, deadPid, repo.Root);
        var adopted = Assert.Single(found);
        Assert.Equal((IndexDiscrepancyKind.Orphaned, true), (adopted.Kind, adopted.Applied));
        Assert.Equal([orphan.Id], repo.Repository.List().Select(b => b.Id));
    }

    [Fact]
    public async Task Prune_warns_of_the_take_over_and_removes_what_the_policy_lets_go()
    {
        var repository = await PruneTestRepository.CreateAsync(_root, ("a", "7", 0), ("b", "7", 1));
        var deadPid = await LeaveDeadHolderAsync(_root);
        var log = new WarningLog();

        var decisions = await Pruner.PruneAsync(
            new PruneRequest { Repository = _root, Policy = new RetentionPolicy { KeepLast = 1 } }, null, CancellationToken.None, log: log);

        AssertTakenOver(log, deadPid, _root);
        Assert.Equal(["a"], decisions.Where(d => d.Removed).Select(d => d.Id));
        Assert.Equal(["b"], repository.List().Select(b => b.Id));
    }

    [Fact]
    public async Task Verify_warns_of_the_take_over_and_records_the_check()
    {
        using var repo = new SyncRepository();
        var entry = await repo.AddAsync("7");
        var deadPid = await LeaveDeadHolderAsync(repo.Root);
        var log = new WarningLog();

        var result = Assert.Single(await new IntegrityEngine(log).VerifyAsync(
            new IntegrityRequest { Repository = repo.Root }, null, CancellationToken.None));

        AssertTakenOver(log, deadPid, repo.Root);
        Assert.Equal(IntegrityStatus.Valid, result.Status);
        Assert.Equal("Valid", repo.Repository.ReadIndex().Backups.Single(b => b.Id == entry.Id).LastVerifyResult);
    }

    [Fact]
    public async Task Restore_without_a_safety_backup_warns_of_the_take_over_and_records_the_restore()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var deadPid = await LeaveDeadHolderAsync(scratch.Repository);
        var log = new WarningLog();

        await new RestoreEngine(log).RestoreAsync(scratch.Request(backup) with { NoPreBackup = true }, null, CancellationToken.None);

        AssertTakenOver(log, deadPid, scratch.Repository);
        Assert.Single(scratch.Restores(backup.Id));
    }

    [Theory]
    [InlineData("prune", "--keep-last", "1")]
    [InlineData("sync", "--apply")]
    public async Task The_cli_prints_the_take_over_as_a_warning_on_stderr(params string[] command)
    {
        using var repo = new SyncRepository();
        await repo.AddAsync("7");
        await repo.AddAsync("7", indexed: false);
        var deadPid = await LeaveDeadHolderAsync(repo.Root);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await Program.RunAsync([.. command, "--repository", repo.Root], stdout, stderr);

        Assert.True(exitCode == 0, stderr.ToString());
        Assert.Contains($"tenantbackup: warning: {TakeOver}", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains($"process {deadPid} on {Environment.MachineName}", stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The holder record of a process that held the index lock and was killed: it is gone, its record stays.</summary>
    private static async Task<int> LeaveDeadHolderAsync(string root)
    {
        int deadPid;
        using (var finished = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            await finished.WaitForExitAsync();
            deadPid = finished.Id;
        }

        var record = new
        {
            host = Environment.MachineName, processId = deadPid, command = "tenantbackup backup", since = DateTimeOffset.UtcNow,
        };
        var lockPath = Path.Combine(root, BackupRepository.IndexFileName + ".lock");
        await File.WriteAllTextAsync(IndexLock.HolderPath(lockPath), JsonSerializer.Serialize(record));
        return deadPid;
    }

    private static void AssertTakenOver(WarningLog log, int deadPid, string root)
    {
        var warning = Assert.Single(log.Warnings, w => w.Contains(TakeOver, StringComparison.Ordinal));
        Assert.Contains($"process {deadPid} on {Environment.MachineName} (tenantbackup backup)", warning, StringComparison.Ordinal);
        Assert.Contains("no longer running", warning, StringComparison.Ordinal);
        Assert.False(File.Exists(IndexLock.HolderPath(Path.Combine(root, BackupRepository.IndexFileName + ".lock"))));
    }
}
