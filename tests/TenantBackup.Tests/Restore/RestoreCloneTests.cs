using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// Restores into another tenant of the same database, where every surrogate key of the archive is already used by the
/// source tenant: the copy must equal the source with its keys renamed consistently, at every depth.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreCloneTests(PostgresFixture fixture)
{
    /// <summary>Tables whose single-column surrogate key (sequence, identity or uuid) a clone must give new values.</summary>
    private static readonly string[] SurrogateKeyed =
    [
        "public.customers", "public.projects", "public.invoices", "public.employees", "public.stores", "public.staff",
        "billing.Payment Methods", "billing.Charges",
    ];

    /// <summary>Tables whose key holds the tenant column (or that have none), so a clone's rows cannot collide.</summary>
    private static readonly string[] TenantKeyed =
        ["public.tenants", "public.documents", "public.document_versions", "public.events", "public.audit_log"];

    [Fact]
    public async Task Two_clones_of_a_tenant_each_equal_it_through_their_foreign_keys()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var source = await TenantData.ShapeAsync(connection, 1);

        foreach (var clone in new[] { 5, 6 })
        {
            var others = await TenantData.RowsOutsideAsync(connection, clone);

            var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { TargetTenant = clone.ToString() });

            TenantData.AssertEqual(source, await TenantData.ShapeAsync(connection, clone), $"clone {clone} through its foreign keys");
            TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, clone), $"every row but clone {clone}'s");
            Assert.Equal(("1", clone.ToString()), (result.Tenant, result.TargetTenant));
            Assert.Null(result.PreRestoreBackupId);
            Assert.Equal(1, result.Tables.Single(t => t.Table == TestSchema.RootTable).Inserted);
            foreach (var table in result.Tables)
            {
                Assert.True(table.Inserted == TestSchema.RowCount(table.Table, 1), $"{table.Table}: {table.Inserted} inserted");
                Assert.Equal(0, table.Deleted);
                // invoice_lines' key holds a remapped invoice id; whether that counts as remapping the row is left open.
                if (table.Table != "public.invoice_lines")
                {
                    var expected = SurrogateKeyed.Contains(table.Table) ? TestSchema.RowCount(table.Table, 1) : 0;
                    Assert.True(expected == table.Remapped, $"{table.Table}: {table.Remapped} remapped, {expected} expected");
                }
            }
        }

        // No row of any tenant points at a row of another tenant.
        Assert.Equal(0L, await Sql.ScalarAsync<long>(connection, """
            SELECT (SELECT count(*) FROM public.projects p JOIN public.customers c ON c.id = p.customer_id WHERE c.tenant_id <> p.tenant_id)
                + (SELECT count(*) FROM public.employees e JOIN public.employees m ON m.id = e.manager_id WHERE m.tenant_id <> e.tenant_id)
                + (SELECT count(*) FROM public.stores s JOIN public.staff f ON f.id = s.manager_staff_id WHERE f.tenant_id <> s.tenant_id)
                + (SELECT count(*) FROM public.staff f JOIN public.stores s ON s.id = f.store_id WHERE f.tenant_id <> s.tenant_id)
            """));
    }

    [Fact]
    public async Task KeyCollision_Fail_refuses_a_clone_listing_the_colliding_tables_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(
            scratch.Request(backup) with { TargetTenant = "5", KeyCollision = KeyCollisionAction.Fail });

        Assert.Equal(ErrorCode.KeyCollision, error.Code);
        var collisions = Assert.IsAssignableFrom<IReadOnlyList<KeyCollisionInfo>>(error.Target);
        var tables = collisions.Select(c => c.Table).ToHashSet(StringComparer.Ordinal);
        Assert.All(SurrogateKeyed, table => Assert.Contains(table, tables));
        Assert.All(collisions.Where(c => c.Surrogate), c => Assert.Contains(c.Table, SurrogateKeyed));
        Assert.All(TenantKeyed, table => Assert.DoesNotContain(table, tables));
        var customers = collisions.Single(c => c.Table == "public.customers");
        Assert.Equal(["id"], customers.Columns);
        Assert.Equal((true, (long)TestSchema.RowCount("public.customers", 1)), (customers.Surrogate, customers.Count));
        Assert.NotEmpty(customers.Examples);
        Assert.Contains("public.customers", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task A_partial_clone_whose_parent_rows_are_missing_is_a_ScopeError_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(
            scratch.Request(backup) with { TargetTenant = "5", IncludeTables = ["projects"] });

        Assert.Equal(ErrorCode.ScopeError, error.Code);
        Assert.Contains("projects", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }
}
