using TenantBackup.Engine;
using TenantBackup.Engine.Catalog;
using Xunit;

namespace TenantBackup.Tests.Catalog;

/// <summary>Scope rules on hand-built catalogs: the cases are small enough to read, and need no server.</summary>
public class ScopeResolverTests
{
    private static uint _oid = 1000;

    private static CatalogTable Table(string qualified, string[] columns, string[]? pk = null, params CatalogForeignKey[] fks)
    {
        var parts = qualified.Split('.');
        return new CatalogTable(
            _oid++,
            parts[0],
            parts[1],
            false,
            columns
                .Select(c => new CatalogColumn(
                    c.TrimEnd('?'),
                    c.StartsWith("tenant_id", StringComparison.Ordinal) || c == "id" ? "integer" : "text",
                    !c.EndsWith('?'),
                    null,
                    false,
                    null))
                .ToList(),
            pk,
            [],
            fks,
            []);
    }

    private static CatalogForeignKey Fk(
        string name, string column, string references, string referencedColumn = "id", bool deferrable = false)
    {
        var parts = references.Split('.');
        return new CatalogForeignKey(name, [column], parts[0], parts[1], [referencedColumn], deferrable, false);
    }

    private static readonly CatalogTable Tenants = Table("public.tenants", ["id", "name"], ["id"]);
    private static readonly CatalogTable Countries = Table("public.countries", ["code", "name"], ["code"]);

    private static readonly CatalogTable Customers = Table(
        "public.customers", ["id", "tenant_id", "country?"], ["id"],
        Fk("customers_tenant", "tenant_id", "public.tenants"), Fk("customers_country", "country", "public.countries", "code"));

    private static readonly CatalogTable Invoices = Table(
        "public.invoices", ["id", "customer_id"], ["id"], Fk("invoices_customer", "customer_id", "public.customers"));
    private static readonly CatalogTable Lines = Table(
        "public.invoice_lines", ["invoice_id", "no"], ["invoice_id", "no"], Fk("lines_invoice", "invoice_id", "public.invoices"));

    [Fact]
    public void Root_direct_and_indirect_tables_in_parent_first_order_and_shared_tables_left_out()
    {
        var scope = ScopeResolver.Resolve([Lines, Invoices, Countries, Customers, Tenants], "tenant_id", [], []);

        Assert.Equal(
            ["public.tenants", "public.customers", "public.invoices", "public.invoice_lines"],
            scope.Tables.Select(t => t.Table.QualifiedName));
        Assert.Equal([ScopeKind.Root, ScopeKind.Direct, ScopeKind.Indirect, ScopeKind.Indirect], scope.Tables.Select(t => t.Kind));
        Assert.Equal("public.tenants", scope.Root!.Table.QualifiedName);
        Assert.Equal("integer", scope.TenantType);
        Assert.Equal(["public.invoice_lines", "public.invoices", "public.customers"], scope.Tables[3].Path);
        Assert.Equal(2, scope.Tables[3].Depth);
        var shared = Assert.Single(scope.SharedReferences);
        Assert.Equal(("public.customers", "public.countries"), (shared.Table, shared.References));
    }

    [Fact]
    public void Filters_pass_the_tenant_through_the_setting_and_join_indirect_tables_to_their_parents()
    {
        var scope = ScopeResolver.Resolve([Lines, Invoices, Customers, Tenants], "tenant_id", [], []);

        Assert.Equal("t0.\"id\" = pg_catalog.current_setting('tenantbackup.tenant')::integer", scope.Tables[0].FilterSql);
        Assert.Equal("t0.\"tenant_id\" = pg_catalog.current_setting('tenantbackup.tenant')::integer", scope.Tables[1].FilterSql);
        Assert.Equal(
            "EXISTS (SELECT 1 FROM \"public\".\"invoices\" t1 WHERE t1.\"id\" = t0.\"invoice_id\" AND " +
            "EXISTS (SELECT 1 FROM \"public\".\"customers\" t2 WHERE t2.\"id\" = t1.\"customer_id\" AND " +
            "t2.\"tenant_id\" = pg_catalog.current_setting('tenantbackup.tenant')::integer))",
            scope.Tables[3].FilterSql);
    }

    [Fact]
    public void A_table_with_two_paths_keeps_rows_reachable_through_either()
    {
        var notes = Table(
            "public.notes", ["id", "customer_id?", "invoice_id?"], ["id"],
            Fk("n_c", "customer_id", "public.customers"), Fk("n_i", "invoice_id", "public.invoices"));
        var scope = ScopeResolver.Resolve([notes, Invoices, Customers, Tenants], "tenant_id", [], []);

        var filter = scope.Tables.Single(t => t.Table.Name == "notes").FilterSql;
        Assert.StartsWith("(EXISTS", filter, StringComparison.Ordinal);
        Assert.Contains(" OR EXISTS", filter, StringComparison.Ordinal);
    }

    [Fact]
    public void Include_and_exclude_wildcards_match_table_or_schema_qualified_names_case_insensitively()
    {
        var all = new[] { Lines, Invoices, Customers, Tenants };
        Assert.Equal(
            ["public.invoices", "public.invoice_lines"],
            ScopeResolver.Resolve(all, "tenant_id", ["INVOICE*"], []).Tables.Select(t => t.Table.QualifiedName));
        Assert.Equal(
            ["public.tenants", "public.customers"],
            ScopeResolver.Resolve(all, "tenant_id", [], ["public.invoice*"]).Tables.Select(t => t.Table.QualifiedName));

        var error = Assert.Throws<TenantBackupException>(() => ScopeResolver.Resolve(all, "tenant_id", ["nosuch*"], []));
        Assert.Equal(ErrorCode.ScopeError, error.Code);
        Assert.Contains("'nosuch*'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tenant_column_is_a_scope_error_that_suggests_likely_columns()
    {
        var accounts = Table("public.orders", ["id", "account_id"], ["id"]);
        var items = Table("public.items", ["id", "account_id"], ["id"]);
        var error = Assert.Throws<TenantBackupException>(() => ScopeResolver.Resolve([accounts, items, Countries], "tenant_id", [], []));

        Assert.Equal(ErrorCode.ScopeError, error.Code);
        Assert.Contains("'tenant_id'", error.Message, StringComparison.Ordinal);
        Assert.Contains("account_id (2 tables)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_two_table_cycle_is_broken_at_its_deferrable_edge_and_the_rest_keeps_parents_first()
    {
        var stores = Table(
            "public.stores", ["id", "tenant_id", "manager_id?"], ["id"],
            Fk("stores_tenant", "tenant_id", "public.tenants"), Fk("stores_manager", "manager_id", "public.staff", deferrable: true));
        var staff = Table(
            "public.staff", ["id", "tenant_id", "store_id"], ["id"],
            Fk("staff_tenant", "tenant_id", "public.tenants"), Fk("staff_store", "store_id", "public.stores"));
        var scope = ScopeResolver.Resolve([staff, stores, Tenants], "tenant_id", [], []);

        Assert.Equal(["public.tenants", "public.stores", "public.staff"], scope.Tables.Select(t => t.Table.QualifiedName));
        var cycle = Assert.Single(scope.Cycles);
        Assert.True(cycle.Breakable);
        Assert.Equal(["public.staff", "public.stores"], cycle.Tables);
        Assert.Equal("deferred", cycle.Edges.Single(e => e.Constraint == "stores_manager").BreakBy);
        Assert.Null(cycle.Edges.Single(e => e.Constraint == "staff_store").BreakBy);
    }

    [Fact]
    public void A_cycle_without_deferrable_edges_is_broken_at_a_nullable_column()
    {
        var a = Table("public.a", ["id", "tenant_id", "b_id?"], ["id"], Fk("a_b", "b_id", "public.b"));
        var b = Table("public.b", ["id", "tenant_id", "a_id"], ["id"], Fk("b_a", "a_id", "public.a"));
        var cycle = Assert.Single(ScopeResolver.Resolve([a, b], "tenant_id", [], []).Cycles);

        Assert.True(cycle.Breakable);
        Assert.Equal("null-then-update", cycle.Edges.Single(e => e.Constraint == "a_b").BreakBy);
    }

    [Fact]
    public void A_cycle_of_not_null_immediate_keys_is_reported_as_not_breakable_but_still_ordered()
    {
        var a = Table("public.a", ["id", "tenant_id", "b_id"], ["id"], Fk("a_b", "b_id", "public.b"));
        var b = Table("public.b", ["id", "tenant_id", "a_id"], ["id"], Fk("b_a", "a_id", "public.a"));
        var scope = ScopeResolver.Resolve([a, b], "tenant_id", [], []);

        var cycle = Assert.Single(scope.Cycles);
        Assert.False(cycle.Breakable);
        Assert.All(cycle.Edges, e => Assert.Null(e.BreakBy));
        Assert.Equal(2, scope.Tables.Count);
    }

    [Fact]
    public void Self_references_are_not_cycles_and_tenant_less_tables_referencing_each_other_terminate()
    {
        var employees = Table(
            "public.employees", ["id", "tenant_id", "manager_id?"], ["id"],
            Fk("emp_tenant", "tenant_id", "public.tenants"), Fk("emp_manager", "manager_id", "public.employees"));
        // comments: child of customers, and of itself: the self key must not recurse into the filter.
        var comments = Table(
            "public.comments", ["id", "customer_id", "reply_to?"], ["id"],
            Fk("c_cust", "customer_id", "public.customers"), Fk("c_reply", "reply_to", "public.comments"));
        var scope = ScopeResolver.Resolve([employees, comments, Customers, Tenants], "tenant_id", [], []);

        Assert.Empty(scope.Cycles);
        var filter = scope.Tables.Single(t => t.Table.Name == "comments").FilterSql;
        Assert.DoesNotContain("comments", filter, StringComparison.Ordinal);
    }
}
