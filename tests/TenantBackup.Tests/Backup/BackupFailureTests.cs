using System.Security.Cryptography;
using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Backup;

/// <summary>Every refused backup says why, with its error code, and leaves no archive, partial file or index entry.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BackupFailureTests(PostgresFixture fixture)
{
    private static async Task<TenantBackupException> FailsAsync(BackupRequest request, IProgress<ProgressEvent>? progress = null) =>
        await Assert.ThrowsAsync<TenantBackupException>(() => new BackupEngine().BackupAsync(request, progress, CancellationToken.None));

    [Fact]
    public async Task An_unknown_tenant_is_TenantNotFound_naming_tenant_and_column_and_writes_nothing()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);

        var error = await FailsAsync(scratch.Request("999"));

        Assert.Equal(ErrorCode.TenantNotFound, error.Code);
        Assert.Contains("tenant_id = 999", error.Message, StringComparison.Ordinal);
        Assert.Contains("public.tenants", error.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_tenant_with_only_its_root_row_backs_up_that_row()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);

        var info = await new BackupEngine().BackupAsync(scratch.Request(TestSchema.EmptyTenant.ToString()), null, CancellationToken.None);

        Assert.Equal(1, info.RowCount);
    }

    [Fact]
    public async Task A_value_that_is_not_of_the_tenant_columns_type_is_InvalidTenantValue()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);

        var error = await FailsAsync(scratch.Request("abc'; DROP TABLE customers; --"));

        Assert.Equal(ErrorCode.InvalidTenantValue, error.Code);
        Assert.Contains("integer", error.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
        await using var connection = await fixture.OpenConnectionAsync(scratch.Database);
        var rows = await TableDump.RowsAsync(connection, "public.customers", "tenant_id = 1");
        Assert.Equal(TestSchema.RowCount("public.customers", 1), rows.Count);
    }

    [Fact]
    public async Task A_tenant_column_no_table_has_is_a_ScopeError_listing_likely_columns()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);

        var error = await FailsAsync(scratch.Request("1") with { TenantColumn = "account_id" });

        Assert.Equal(ErrorCode.ScopeError, error.Code);
        Assert.Contains("'account_id'", error.Message, StringComparison.Ordinal);
        Assert.Contains("tenant_id (", error.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_role_that_row_level_security_would_filter_fails_instead_of_backing_up_part_of_the_tenant()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using (var admin = await fixture.OpenConnectionAsync(scratch.Database))
        {
            await Exec(admin, """
                DO $$ BEGIN CREATE ROLE tb_rls_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                GRANT USAGE ON SCHEMA public, billing TO tb_rls_reader;
                GRANT SELECT ON ALL TABLES IN SCHEMA public, billing TO tb_rls_reader;
                ALTER TABLE public.invoices ENABLE ROW LEVEL SECURITY;
                CREATE POLICY only_big ON public.invoices USING (total > 100);
                """);
        }

        var connection = new NpgsqlConnectionStringBuilder(scratch.ConnectionString) { Username = "tb_rls_reader" }.ConnectionString;
        var error = await FailsAsync(scratch.Request("1") with { ConnectionString = connection });

        Assert.Equal(ErrorCode.RowLevelSecurity, error.Code);
        Assert.Contains("invoices", error.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task Nothing_listening_is_ConnectionFailed_and_the_password_appears_nowhere()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        const string password = "Very-Secret-Pa55word";
        var connection = $"Host=127.0.0.1;Port=1;Username=postgres;Password={password};Database=app;Timeout=3";

        var error = await FailsAsync(scratch.Request("1") with { ConnectionString = connection });

        Assert.Equal(ErrorCode.ConnectionFailed, error.Code);
        Assert.Contains("127.0.0.1:1/app", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(password, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_wrong_password_is_AuthenticationFailed_and_the_password_appears_nowhere()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using (var admin = await fixture.OpenConnectionAsync(scratch.Database))
        {
            await Exec(
                admin, "DO $$ BEGIN CREATE ROLE tb_pw_user LOGIN PASSWORD 'right-one'; EXCEPTION WHEN duplicate_object THEN NULL; END $$;");
            // The test server trusts loopback; make this one role prove its password.
            var hbaFile = (string)(await new NpgsqlCommand("SHOW hba_file", admin).ExecuteScalarAsync())!;
            var hba = await File.ReadAllTextAsync(hbaFile);
            const string line = "host all tb_pw_user 127.0.0.1/32 scram-sha-256\n";
            if (!hba.StartsWith(line, StringComparison.Ordinal))
            {
                await File.WriteAllTextAsync(hbaFile, line + hba);
            }

            await Exec(admin, "SELECT pg_reload_conf()");
        }

        const string wrong = "Wrong-Pa55word-xyz";
        var connection = new NpgsqlConnectionStringBuilder(scratch.ConnectionString) { Username = "tb_pw_user", Password = wrong }
            .ConnectionString;
        var error = await FailsAsync(scratch.Request("1") with { ConnectionString = connection });

        Assert.Equal(ErrorCode.AuthenticationFailed, error.Code);
        Assert.DoesNotContain(wrong, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_tenant_locked_by_a_restore_is_TenantLocked_after_the_timeout_naming_the_holder()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using var holder = await fixture.OpenConnectionAsync(scratch.Database);
        await Exec(holder, "SELECT pg_advisory_lock(hashtext('tenantbackup'), hashtext('tenant_id:1'))");
        var holderPid = holder.ProcessID;

        var error = await FailsAsync(scratch.Request("1") with { LockTimeout = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(ErrorCode.TenantLocked, error.Code);
        Assert.Contains($"pid {holderPid}", error.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Files());

        // Another tenant is not blocked by it.
        Assert.Equal("2", (await new BackupEngine().BackupAsync(scratch.Request("2"), null, CancellationToken.None)).Tenant);
    }

    [Fact]
    public async Task A_table_locked_by_a_migration_is_TenantLocked_after_the_timeout_instead_of_a_wait_without_end()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using var migration = await fixture.OpenConnectionAsync(scratch.Database);
        await using var transaction = await migration.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE billing.\"Charges\" IN ACCESS EXCLUSIVE MODE", migration, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var error = await FailsAsync(scratch.Request("1") with { LockTimeout = TimeSpan.FromMilliseconds(500) });

        Assert.Equal(ErrorCode.TenantLocked, error.Code);
        Assert.Contains("lock", error.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Files());
    }

    [Fact]
    public async Task A_backup_cancelled_midway_leaves_no_archive_no_partial_no_index_entry_and_no_lock()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await new BackupEngine().BackupAsync(scratch.Request("2"), null, CancellationToken.None);
        var indexBefore = await File.ReadAllTextAsync(Path.Combine(scratch.Repository, "backups.json"));
        var filesBefore = scratch.Files();

        using var cancel = new CancellationTokenSource();
        var sawPartial = false;
        var progress = new InlineProgress(e =>
        {
            if (e.Phase == "export" && e.Table == "public.invoices")
            {
                sawPartial = Directory.GetFiles(scratch.Repository, "*.partial").Length == 1;
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new BackupEngine().BackupAsync(scratch.Request("1"), progress, cancel.Token));

        Assert.True(sawPartial);
        Assert.Equal(filesBefore, scratch.Files());
        Assert.Equal(indexBefore, await File.ReadAllTextAsync(Path.Combine(scratch.Repository, "backups.json")));
        // The engine closed its session; the server ends it (and its locks) a moment later.
        await using var connection = await fixture.OpenConnectionAsync(scratch.Database);
        var locks = -1L;
        for (var attempt = 0; attempt < 50 && locks != 0; attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 100);
            locks = await Scalar<long>(connection, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'");
        }

        Assert.Equal(0L, locks);
    }

    [Fact]
    public async Task A_full_disk_is_IOError_and_leaves_no_partial_file_and_no_index()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var disk = Directory.CreateTempSubdirectory("tb-full-").FullName;
        var files = Directory.CreateTempSubdirectory("tb-big-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(files, "upload.bin"), RandomNumberGenerator.GetBytes(512 * 1024)); // incompressible
        var mount = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", disk], TimeSpan.FromSeconds(30));
        Assert.True(mount.Succeeded, "This test mounts a 256 KB tmpfs as the repository and needs root for it.\n" + mount.Describe());
        try
        {
            var error = await FailsAsync(scratch.Request("1") with { Repository = disk, IncludePaths = [files] });

            Assert.Equal(ErrorCode.IOError, error.Code);
            Assert.Contains("free space", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Directory.GetFiles(disk), f => !f.EndsWith(".lock", StringComparison.Ordinal));
        }
        finally
        {
            await ProcessRunner.RunAsync("umount", [disk], TimeSpan.FromSeconds(30));
            Directory.Delete(disk, recursive: true);
            Directory.Delete(files, recursive: true);
        }
    }

    [Fact]
    public async Task Two_backups_of_one_tenant_at_the_same_moment_both_succeed_with_distinct_ids()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);

        var both = await Task.WhenAll(
            Task.Run(() => new BackupEngine().BackupAsync(scratch.Request("3"), null, CancellationToken.None)),
            Task.Run(() => new BackupEngine().BackupAsync(scratch.Request("3"), null, CancellationToken.None)));

        Assert.NotEqual(both[0].Id, both[1].Id);
        Assert.NotEqual(both[0].Path, both[1].Path);
        Assert.Equal(both.Select(b => b.Id).Order(), BackupRepository.Open(scratch.Repository).List("3").Select(b => b.Id).Order());
        Assert.All(both, b => Assert.True(File.Exists(b.Path)));
    }

    [Fact]
    public async Task Rows_committed_while_the_backup_runs_are_not_in_it_because_every_table_comes_from_one_snapshot()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        await using var writer = await fixture.OpenConnectionAsync(scratch.Database);
        var inserted = false;
        var progress = new InlineProgress(e =>
        {
            // audit_log is exported after customers; this row is committed in between.
            if (e.Phase == "export" && e.Table == "public.customers" && !inserted)
            {
                inserted = true;
                using var command = new NpgsqlCommand(
                    "INSERT INTO public.audit_log (tenant_id, at, action) VALUES (1, now(), 'during backup')", writer);
                command.ExecuteNonQuery();
            }
        });

        var info = await new BackupEngine().BackupAsync(scratch.Request("1"), progress, CancellationToken.None);

        Assert.True(inserted);
        Assert.Equal(TestSchema.TotalRows(1), info.RowCount);
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
