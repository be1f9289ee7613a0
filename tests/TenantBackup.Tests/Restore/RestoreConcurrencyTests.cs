using System.Diagnostics;
using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>The tenant's advisory lock: a restore waits for a backup or restore of the same tenant, not for other tenants.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreConcurrencyTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("pg_advisory_lock_shared")] // what a backup holds
    [InlineData("pg_advisory_lock")] // what a restore holds
    public async Task A_restore_of_a_tenant_someone_holds_is_TenantLocked_after_the_timeout_and_changes_nothing(string lockFunction)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var before = await scratch.StateAsync();
        TenantBackupException error;
        var watch = Stopwatch.StartNew();
        await using (var holder = await scratch.OpenAsync())
        {
            await Sql.ExecAsync(holder, $"SELECT {lockFunction}(hashtext('tenantbackup'), hashtext('tenant_id:1'))");
            watch.Restart();

            error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with { LockTimeout = TimeSpan.FromSeconds(1) });
        }

        Assert.Equal(ErrorCode.TenantLocked, error.Code);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Restores_of_two_tenants_run_side_by_side_and_both_are_right()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup1 = await scratch.BackupAsync(1);
        var backup2 = await scratch.BackupAsync(2);
        await using var connection = await scratch.OpenAsync();
        var backedUp1 = await TenantData.RowsAsync(connection, 1);
        var backedUp2 = await TenantData.RowsAsync(connection, 2);
        await TenantChanges.ApplyAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 2);
        var others = await TenantData.RowsOutsideAsync(connection, 1, 2);

        var results = await Task.WhenAll(
            Task.Run(() => RestoreScratch.RestoreAsync(scratch.Request(backup1))),
            Task.Run(() => RestoreScratch.RestoreAsync(scratch.Request(backup2))));

        TenantData.AssertEqual(backedUp1, await TenantData.RowsAsync(connection, 1), "tenant 1");
        TenantData.AssertEqual(backedUp2, await TenantData.RowsAsync(connection, 2), "tenant 2");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1, 2), "tenants 3, 4 and shared tables");
        Assert.Equal(["1", "2"], results.Select(r => r.TargetTenant));
        Assert.Single(scratch.Restores(backup1.Id));
        Assert.Single(scratch.Restores(backup2.Id));
        Assert.All(results, r => Assert.NotNull(r.PreRestoreBackupId));
        await scratch.AssertNoAdvisoryLocksAsync();
    }
}
