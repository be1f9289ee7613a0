using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// <c>Merge</c> and <c>Append</c> against a tenant changed since its backup: rows present in both (modified), rows only
/// in the archive (deleted since) and rows only in the target (added since).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreModeTests(PostgresFixture fixture)
{
    private const string AuditLog = "public.audit_log";

    [Fact]
    public async Task Merge_puts_back_the_backed_up_rows_and_keeps_the_rows_added_since()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        var changes = await TenantChanges.ApplyAsync(connection, 1);
        var before = await TenantData.RowsAsync(connection, 1);
        var others = await TenantData.RowsOutsideAsync(connection, 1);

        var result = await RestoreScratch.RestoreAsync(
            scratch.Request(backup) with { Mode = RestoreMode.Merge, ExcludeTables = ["audit_log"] });

        var expected = TenantData.Plus(backedUp, changes.Added);
        expected[AuditLog] = before[AuditLog];
        TenantData.AssertEqual(expected, await TenantData.RowsAsync(connection, 1), "tenant 1 after the merge");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1), "other tenants and shared tables");
        Assert.DoesNotContain(result.Tables, t => t.Table == AuditLog);
        Assert.Equal(RestoreMode.Merge, result.Mode);
        Assert.All(result.Tables, t => Assert.Equal(0, t.Deleted));
        var customers = result.Tables.Single(t => t.Table == "public.customers");
        Assert.Equal(1, customers.Inserted);
        Assert.InRange(customers.Updated, 1, customers.ArchiveRows - 1);
        Assert.Equal(changes.Deleted["public.invoice_lines"].Count, result.Tables.Single(t => t.Table == "public.invoice_lines").Inserted);
    }

    [Fact]
    public async Task Merge_refuses_a_table_without_a_primary_key_naming_it_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with { Mode = RestoreMode.Merge });

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("audit_log", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Append_inserts_the_rows_deleted_since_and_keeps_every_current_row_as_it_is()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var changes = await TenantChanges.ApplyAsync(connection, 1);
        var before = await TenantData.RowsAsync(connection, 1);
        var others = await TenantData.RowsOutsideAsync(connection, 1);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { Mode = RestoreMode.Append });

        // audit_log has no key: its two identical rows per tenant are still there twice, and the deleted rows once each.
        TenantData.AssertEqual(
            TenantData.Plus(before, changes.Deleted), await TenantData.RowsAsync(connection, 1), "tenant 1 after the append");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1), "other tenants and shared tables");
        Assert.Contains(result.Tables, t => t.Table == AuditLog);
        foreach (var table in result.Tables)
        {
            var deleted = changes.Deleted.GetValueOrDefault(table.Table)?.Count ?? 0;
            Assert.True(
                (table.Inserted, table.Updated, table.Deleted) == (deleted, 0, 0),
                $"{table.Table}: inserted/updated/deleted {(table.Inserted, table.Updated, table.Deleted)}, {deleted} rows were missing");
        }
    }
}
