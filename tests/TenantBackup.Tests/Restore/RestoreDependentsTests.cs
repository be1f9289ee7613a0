using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// Rows the restore does not write that reference rows a Replace deletes: a table added after the backup, a table left out
/// of a partial restore. Refused before any change, whatever the foreign key's ON DELETE would have done.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreDependentsTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData("", "the delete would fail")]
    [InlineData("ON DELETE CASCADE", "ON DELETE CASCADE would delete them with it")]
    [InlineData("ON DELETE SET NULL", "ON DELETE SET NULL would clear their reference")]
    public async Task A_table_added_after_the_backup_whose_rows_reference_the_tenants_rows_refuses_Replace_and_changes_nothing(
        string onDelete, string consequence)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await scratch.ExecAsync($"""
            CREATE TABLE public.notes (
                id serial PRIMARY KEY,
                tenant_id int NOT NULL REFERENCES public.tenants,
                customer_id int REFERENCES public.customers {onDelete},
                body text);
            INSERT INTO public.notes (tenant_id, customer_id, body)
                SELECT tenant_id, id, 'kept' FROM public.customers WHERE tenant_id = 1 ORDER BY id LIMIT 3;
            """);
        var before = await scratch.StateAsync();

        var plan = await RestoreScratch.PlanAsync(scratch.Request(backup));
        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup));

        Assert.Equal(ErrorCode.ScopeError, error.Code);
        Assert.Contains("3 row(s) of public.notes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"notes_customer_id_fkey: {consequence}", error.Message, StringComparison.Ordinal);
        Assert.Contains("-Mode Merge", error.Message, StringComparison.Ordinal);
        var problem = Assert.Single(plan.Problems);
        Assert.Contains("3 row(s) of public.notes", problem, StringComparison.Ordinal);
        var difference = Assert.Single(plan.SchemaDifferences);
        Assert.Equal(("public.notes", "not-in-backup", false), (difference.Table, difference.Kind, difference.Blocking));
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Rows_of_a_new_table_that_reference_only_the_root_row_or_other_tenants_stay_as_they_are()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await scratch.ExecAsync("""
            CREATE TABLE public.notes (
                id serial PRIMARY KEY,
                tenant_id int NOT NULL REFERENCES public.tenants,
                customer_id int REFERENCES public.customers,
                body text);
            INSERT INTO public.notes (tenant_id, customer_id, body) VALUES (1, NULL, 'about the tenant');
            INSERT INTO public.notes (tenant_id, customer_id, body)
                SELECT tenant_id, id, 'another tenant''s' FROM public.customers WHERE tenant_id = 2 ORDER BY id LIMIT 2;
            """);
        await using var connection = await scratch.OpenAsync();
        var notes = await TableDump.RowsAsync(connection, "public.notes", "true");
        var backedUp = await TenantData.RowsAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);

        var plan = await RestoreScratch.PlanAsync(scratch.Request(backup));
        await RestoreScratch.RestoreAsync(scratch.Request(backup));

        Assert.Empty(plan.Problems);
        Assert.Contains(plan.SchemaDifferences, d => (d.Table, d.Kind, d.Blocking) == ("public.notes", "not-in-backup", false));
        Assert.Equal(notes, await TableDump.RowsAsync(connection, "public.notes", "true"));
        TenantData.AssertEqual(backedUp, await TenantData.RowsAsync(connection, 1), "tenant 1 after the restore");
    }

    [Fact]
    public async Task A_partial_Replace_that_leaves_out_a_child_of_a_restored_table_is_refused_and_Merge_is_not()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var partial = scratch.Request(backup) with { IncludeTables = ["public.customers"] };
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(partial);

        Assert.Equal(ErrorCode.ScopeError, error.Code);
        Assert.Contains("of public.projects, which this restore does not write, reference rows of public.customers", error.Message,
            StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);

        var merged = await RestoreScratch.RestoreAsync(partial with { Mode = RestoreMode.Merge });
        Assert.Equal(0L, merged.Deleted);
    }
}
