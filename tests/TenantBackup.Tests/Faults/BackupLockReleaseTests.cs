using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Tests.Backup;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// A backup that fails after taking its shared tenant lock releases that lock itself before the error surfaces. The backup
/// connects through a <see cref="TcpProxy"/> that keeps the server's session alive when the client leaves: had the backup
/// left the lock to the end of its session, it would still be held, blocking every restore of the tenant.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BackupLockReleaseTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_backup_of_an_unknown_tenant_leaves_no_tenant_lock_behind()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using var proxy = TcpProxy.Start(fixture.Host, fixture.Port);
        proxy.KeepServerSessions();

        var error = await Assert.ThrowsAsync<TenantBackupException>(
            () => new BackupEngine().BackupAsync(Through(proxy, scratch.Request("999")), null, CancellationToken.None));

        Assert.Equal(ErrorCode.TenantNotFound, error.Code);
        Assert.Empty(await TenantLocksAsync(scratch.Database));
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_backup_cancelled_while_it_resolves_the_scope_leaves_no_tenant_lock_behind()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using var proxy = TcpProxy.Start(fixture.Host, fixture.Port);
        proxy.KeepServerSessions();
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress(e =>
        {
            if (e.Phase == "scope")
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new BackupEngine().BackupAsync(Through(proxy, scratch.Request("1")), progress, cancel.Token));

        Assert.True(cancel.IsCancellationRequested);
        Assert.Empty(await TenantLocksAsync(scratch.Database));
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_backup_cancelled_during_its_export_reports_the_cancellation_though_its_lock_cannot_be_released()
    {
        // Npgsql breaks a connection whose COPY is cancelled, so the release fails; the lock goes with the session.
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress(e =>
        {
            if (e.Phase == "export" && e.Table is not null && e.TablesDone == 1)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new BackupEngine().BackupAsync(scratch.Request("1"), progress, cancel.Token));

        Assert.True(cancel.IsCancellationRequested);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await TenantLocksAsync(scratch.Database)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Empty(await TenantLocksAsync(scratch.Database));
        Assert.Empty(scratch.Files());
    }

    private BackupRequest Through(TcpProxy proxy, BackupRequest request) => request with
    {
        ConnectionString = new NpgsqlConnectionStringBuilder(request.ConnectionString) { Host = fixture.Host, Port = proxy.Port }
            .ConnectionString,
    };

    /// <summary>Sessions holding a TenantBackup tenant lock in <paramref name="database"/>, whichever tenant it is for.</summary>
    private async Task<List<int>> TenantLocksAsync(string database)
    {
        await using var connection = await fixture.OpenConnectionAsync(database);
        await using var command = new NpgsqlCommand(
            """
            SELECT l.pid FROM pg_catalog.pg_locks l
            WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid = pg_catalog.hashtext('tenantbackup')::oid
              AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }
}
