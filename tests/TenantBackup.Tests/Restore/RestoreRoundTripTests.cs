using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// Restores into the tenant the backup came from: every row back as it was, every other tenant untouched, the result
/// and the index telling what happened, and the pre-restore backup undoing it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreRoundTripTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Replace_gives_back_every_row_of_the_tenant_and_leaves_every_other_row_alone()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);
        var others = await TenantData.RowsOutsideAsync(connection, 1);
        var before = await TenantData.RowsAsync(connection, 1);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup));

        TenantData.AssertEqual(backedUp, await TenantData.RowsAsync(connection, 1), "tenant 1 after the restore");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1), "other tenants and shared tables");
        Assert.Equal(
            TestSchema.ScopedTables.Order(StringComparer.Ordinal), result.Tables.Select(t => t.Table).Order(StringComparer.Ordinal));
        foreach (var table in result.Tables)
        {
            Assert.Equal(TestSchema.RowCount(table.Table, 1), table.ArchiveRows);
            Assert.Equal(0, table.Remapped);
            var counts = (table.Inserted, table.Updated, table.Deleted);
            Assert.True(
                table.Table == TestSchema.RootTable ? counts == (0, 1, 0) : counts == (table.ArchiveRows, 0, before[table.Table].Count),
                $"{table.Table}: inserted/updated/deleted {counts}, archive rows {table.ArchiveRows}, " +
                $"rows before {before[table.Table].Count}");
        }
    }

    [Fact]
    public async Task Rows_added_with_default_keys_after_a_restore_do_not_collide_with_restored_ones()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        await TenantChanges.ApplyAsync(connection, 1);

        await RestoreScratch.RestoreAsync(scratch.Request(backup));

        var maxCustomer = await Sql.ScalarAsync<int>(connection, "SELECT max(id) FROM public.customers");
        var added = await Sql.ScalarAsync<int>(
            connection, "INSERT INTO public.customers (tenant_id, name) VALUES (1, 'after restore') RETURNING id");
        Assert.True(added > maxCustomer, $"new customer id {added}, largest before {maxCustomer}");
        await Sql.ExecAsync(connection, $"INSERT INTO public.projects (tenant_id, customer_id, name) VALUES (1, {added}, 'after restore')");
    }

    [Fact]
    public async Task A_restore_into_another_database_keeps_the_keys_and_moves_every_sequence_past_them()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var target = await scratch.CreateDatabaseAsync();
        var scoped = string.Join(", ", TestSchema.ScopedTables.Select(TableDump.QuoteName));
        await scratch.ExecAsync($"TRUNCATE {scoped} RESTART IDENTITY CASCADE", target);

        var result = await RestoreScratch.RestoreAsync(
            scratch.Request(backup) with { ConnectionString = scratch.ConnectionStringFor(target) });

        await using var source = await scratch.OpenAsync();
        await using var restored = await scratch.OpenAsync(target);
        TenantData.AssertEqual(
            await TenantData.RowsAsync(source, 1), await TenantData.RowsAsync(restored, 1), "tenant 1 in the other database");
        Assert.Null(result.PreRestoreBackupId);
        Assert.Equal(1, result.Tables.Single(t => t.Table == TestSchema.RootTable).Inserted);
        Assert.Contains(target, result.Database, StringComparison.Ordinal);

        // Each of these takes its key from a sequence that started again at 1, below the restored keys.
        await Sql.ExecAsync(restored, """
            INSERT INTO public.customers (tenant_id, name) VALUES (1, 'new customer');
            INSERT INTO public.projects (tenant_id, customer_id, name) SELECT 1, max(id), 'new project' FROM public.customers;
            INSERT INTO public.employees (tenant_id, name) VALUES (1, 'new employee');
            INSERT INTO public.stores (tenant_id, name) VALUES (1, 'new store');
            INSERT INTO public.staff (tenant_id, store_id, name) SELECT 1, max(id), 'new staff' FROM public.stores;
            INSERT INTO billing."Charges" ("Payment Method Id", amount) SELECT "Id", 1 FROM billing."Payment Methods" LIMIT 1;
            """);
    }

    [Fact]
    public async Task The_result_names_the_backup_and_the_pre_restore_backup_that_undoes_it()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        await TenantChanges.ApplyAsync(connection, 1);
        var rowsBefore = (await TenantData.RowsAsync(connection, 1)).Values.Sum(rows => rows.Count);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup));

        Assert.Equal(
            (backup.Id, "1", "1", RestoreMode.Replace, backup.Path),
            (result.BackupId, result.Tenant, result.TargetTenant, result.Mode, result.Path));
        Assert.False(string.IsNullOrEmpty(result.Id));
        Assert.NotNull(result.PreRestoreBackupId);
        var safety = Assert.Single(BackupRepository.Open(scratch.Repository).List(), b => b.Id == result.PreRestoreBackupId);
        Assert.Equal((BackupKinds.PreRestore, backup.Id, "1"), (safety.Kind, safety.ParentId, safety.Tenant));
        Assert.Equal(rowsBefore, safety.RowCount);
        Assert.True(File.Exists(safety.Path), safety.Path);
        Assert.Equal(0, result.FilesRestored);
    }

    [Fact]
    public async Task The_restored_backups_index_entry_gets_a_history_entry_per_restore()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        await TenantChanges.ApplyAsync(connection, 1);

        var first = await RestoreScratch.RestoreAsync(scratch.Request(backup));
        var second = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { Mode = RestoreMode.Append, NoPreBackup = true });

        var history = scratch.Restores(backup.Id);
        Assert.Equal(2, history.Count);
        var entry = history.Single(h => h.GetProperty("id").GetString() == first.Id);
        Assert.Equal("replace", entry.GetProperty("mode").GetString());
        Assert.Equal("1", entry.GetProperty("targetTenant").GetString());
        Assert.Equal(first.PreRestoreBackupId, entry.GetProperty("preRestoreBackupId").GetString());
        Assert.Equal(first.Inserted, entry.GetProperty("inserted").GetInt64());
        Assert.Equal(first.Updated, entry.GetProperty("updated").GetInt64());
        Assert.Equal(first.Deleted, entry.GetProperty("deleted").GetInt64());
        Assert.Equal(0, entry.GetProperty("remapped").GetInt64());
        Assert.True(entry.TryGetProperty("tables", out _), entry.ToString());
        Assert.Contains(scratch.Database, entry.GetProperty("database").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(entry.GetProperty("restoredBy").GetString()));
        Assert.True(entry.GetProperty("restoredAt").GetDateTimeOffset() >= backup.CreatedAt);

        var appended = history.Single(h => h.GetProperty("id").GetString() == second.Id);
        Assert.Equal("append", appended.GetProperty("mode").GetString());
        Assert.True(
            !appended.TryGetProperty("preRestoreBackupId", out var none) || none.ValueKind == System.Text.Json.JsonValueKind.Null,
            appended.ToString());
        Assert.Null(second.PreRestoreBackupId);
    }

    [Fact]
    public async Task Keys_another_tenant_took_since_the_backup_get_new_values_followed_by_every_reference()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var shape = await TenantData.ShapeAsync(connection, 1);
        const string keptCustomers = "SELECT id FROM public.customers WHERE tenant_id = 1 AND name <> 'Customer 1-1'";
        var keptIds = await Sql.LinesAsync(connection, keptCustomers);
        await Sql.ExecAsync(connection, TakeKeysSql);
        var others = await TenantData.RowsOutsideAsync(connection, 1);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup));

        TenantData.AssertEqual(shape, await TenantData.ShapeAsync(connection, 1), "tenant 1 through its foreign keys");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1), "tenant 2 with the taken keys, and the rest");
        Assert.Equal(keptIds, await Sql.LinesAsync(connection, keptCustomers));
        var remapped = result.Tables.Where(t => t.Remapped > 0).ToDictionary(t => t.Table, t => t.Remapped);
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["public.customers"] = 1, ["public.projects"] = 1, ["public.invoices"] = 1, ["public.employees"] = 1,
                ["public.stores"] = 1, ["public.staff"] = 1, ["billing.Payment Methods"] = 1, ["billing.Charges"] = 1,
            }.OrderBy(e => e.Key, StringComparer.Ordinal),
            remapped.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_natural_key_another_tenant_took_since_the_backup_is_refused_even_with_Remap()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        await scratch.ExecAsync("""
            CREATE TABLE public.coupons (code text PRIMARY KEY, tenant_id int NOT NULL REFERENCES public.tenants, percent int);
            INSERT INTO public.coupons VALUES ('WELCOME', 1, 10), ('SPRING', 1, 20), ('OTHER', 2, 5);
            """);
        var backup = await scratch.BackupAsync(1);
        await scratch.ExecAsync("DELETE FROM public.coupons WHERE code = 'SPRING'; INSERT INTO public.coupons VALUES ('SPRING', 2, 25);");
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup));

        Assert.Equal(ErrorCode.KeyCollision, error.Code);
        var collisions = Assert.IsAssignableFrom<IReadOnlyList<KeyCollisionInfo>>(error.Target);
        var coupons = Assert.Single(collisions);
        Assert.Equal(("public.coupons", false, 1L, "refuse"), (coupons.Table, coupons.Surrogate, coupons.Count, coupons.Resolution));
        Assert.Equal(["code"], coupons.Columns);
        Assert.Equal(["SPRING"], coupons.Examples);
        Assert.Contains("public.coupons", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    /// <summary>
    /// Tenant 2 takes the keys of some of tenant 1's rows after the backup: a customer with its project, invoice and a
    /// line (same invoice id, line 1), the head of the employee tree, a store and its managing staff (the cycle), and a
    /// payment method with one of its charges.
    /// </summary>
    private const string TakeKeysSql = """
        DO $$
        DECLARE c int; p bigint; i uuid; e int; s int; f int; pm uuid; ch bigint;
        BEGIN
            SELECT id INTO STRICT c FROM public.customers WHERE tenant_id = 1 AND name = 'Customer 1-1';
            SELECT id INTO STRICT p FROM public.projects WHERE customer_id = c;
            SELECT id INTO STRICT i FROM public.invoices WHERE project_id = p AND number = 'INV-1-0001';
            DELETE FROM public.invoice_lines WHERE invoice_id IN (SELECT id FROM public.invoices WHERE project_id = p);
            DELETE FROM public.invoices WHERE project_id = p;
            DELETE FROM public.projects WHERE id = p;
            DELETE FROM public.customers WHERE id = c;
            INSERT INTO public.customers (id, tenant_id, name) VALUES (c, 2, 'Taken customer');
            INSERT INTO public.projects (id, tenant_id, customer_id, name) OVERRIDING SYSTEM VALUE VALUES (p, 2, c, 'Taken project');
            INSERT INTO public.invoices (id, project_id, number) VALUES (i, p, 'INV-taken');
            INSERT INTO public.invoice_lines (invoice_id, line_no, description) VALUES (i, 1, 'taken line');

            SELECT id INTO STRICT e FROM public.employees WHERE tenant_id = 1 AND name = 'Employee 1-20';
            UPDATE public.employees SET manager_id = NULL WHERE manager_id = e;
            DELETE FROM public.employees WHERE id = e;
            INSERT INTO public.employees (id, tenant_id, name) VALUES (e, 2, 'Taken employee');

            SELECT id, manager_staff_id INTO STRICT s, f FROM public.stores WHERE tenant_id = 1 AND name = 'Store 1-1';
            UPDATE public.stores SET manager_staff_id = NULL WHERE id = s;
            DELETE FROM public.staff WHERE store_id = s;
            DELETE FROM public.stores WHERE id = s;
            INSERT INTO public.stores (id, tenant_id, name) VALUES (s, 2, 'Taken store');
            INSERT INTO public.staff (id, tenant_id, store_id, name) VALUES (f, 2, s, 'Taken staff');
            UPDATE public.stores SET manager_staff_id = f WHERE id = s;

            SELECT "Id" INTO STRICT pm FROM billing."Payment Methods" WHERE tenant_id = 1 AND "Card Holder" = 'José Müller 1';
            SELECT min(id) INTO STRICT ch FROM billing."Charges" WHERE "Payment Method Id" = pm;
            DELETE FROM billing."Charges" WHERE "Payment Method Id" = pm;
            DELETE FROM billing."Payment Methods" WHERE "Id" = pm;
            INSERT INTO billing."Payment Methods" ("Id", tenant_id, "Card Holder") VALUES (pm, 2, 'Taken method');
            INSERT INTO billing."Charges" (id, "Payment Method Id", amount) VALUES (ch, pm, 1);
        END $$;
        """;

    [Fact]
    public async Task Restoring_the_pre_restore_backup_returns_the_tenant_to_its_state_before_the_restore()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var older = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        await TenantChanges.ApplyAsync(connection, 1);
        var changed = await TenantData.RowsAsync(connection, 1);
        var others = await TenantData.RowsOutsideAsync(connection, 1);
        var restore = await RestoreScratch.RestoreAsync(scratch.Request(older));
        Assert.NotNull(restore.PreRestoreBackupId);

        var undo = await RestoreScratch.RestoreAsync(scratch.Request(restore.PreRestoreBackupId));

        TenantData.AssertEqual(changed, await TenantData.RowsAsync(connection, 1), "tenant 1 after the undo");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1), "other tenants and shared tables");
        Assert.Equal(restore.PreRestoreBackupId, undo.BackupId);
        var undoSafety = Assert.Single(BackupRepository.Open(scratch.Repository).List(), b => b.Id == undo.PreRestoreBackupId);
        Assert.Equal(restore.PreRestoreBackupId, undoSafety.ParentId);
    }
}
