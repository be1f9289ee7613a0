using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>User triggers (on unless <c>DisableTriggers</c>) and partial restores with <c>IncludeTables</c>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreOptionsTests(PostgresFixture fixture)
{
    private const string TriggerSql = """
        CREATE TABLE public.customer_log (customer_id int, name text);
        CREATE FUNCTION public.log_customer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO public.customer_log VALUES (NEW.id, NEW.name);
            RETURN NEW;
        END $$;
        CREATE TRIGGER customers_log AFTER INSERT ON public.customers FOR EACH ROW EXECUTE FUNCTION public.log_customer();
        """;

    [Fact]
    public async Task User_triggers_fire_for_the_restored_rows()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        await Sql.ExecAsync(connection, TriggerSql);

        await RestoreScratch.RestoreAsync(scratch.Request(backup));

        Assert.Equal(
            await Sql.LinesAsync(connection, "SELECT id, name FROM public.customers WHERE tenant_id = 1"),
            await Sql.LinesAsync(connection, "SELECT customer_id, name FROM public.customer_log"));
    }

    [Fact]
    public async Task DisableTriggers_keeps_user_triggers_quiet_and_enables_them_again_afterwards()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        await Sql.ExecAsync(connection, TriggerSql);

        await RestoreScratch.RestoreAsync(scratch.Request(backup) with { DisableTriggers = true });

        Assert.Equal(0L, await Sql.ScalarAsync<long>(connection, "SELECT count(*) FROM public.customer_log"));
        Assert.Equal(
            "O", (await Sql.ScalarAsync<char>(connection, "SELECT tgenabled FROM pg_trigger WHERE tgname = 'customers_log'")).ToString());
        await Sql.ExecAsync(connection, "INSERT INTO public.customers (tenant_id, name) VALUES (1, 'after restore')");
        Assert.Equal(1L, await Sql.ScalarAsync<long>(connection, "SELECT count(*) FROM public.customer_log"));
    }

    [Fact]
    public async Task IncludeTables_restores_the_matching_tables_and_leaves_the_rest_as_they_are()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);
        var before = await TableDump.SnapshotAsync(connection);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { IncludeTables = ["employees"] });

        Assert.Equal(["public.employees"], result.Tables.Select(t => t.Table));
        Assert.Equal(backedUp["public.employees"], await TableDump.RowsAsync(connection, "public.employees", "tenant_id = 1"));
        var after = await TableDump.SnapshotAsync(connection);
        var untouched = before.Keys.Where(t => t != "public.employees").ToList();
        TenantData.AssertEqual(
            untouched.ToDictionary(t => t, t => before[t], StringComparer.Ordinal),
            untouched.ToDictionary(t => t, t => after[t], StringComparer.Ordinal),
            "every table but employees");
        Assert.Equal(
            await TableDump.RowsAsync(connection, "public.employees", "tenant_id <> 1"),
            before["public.employees"].Where(r => !r.Split('\t')[1].Equals("1", StringComparison.Ordinal)).ToList());
    }
}
