using System.Globalization;
using System.Net;
using Npgsql;
using NpgsqlTypes;
using Xunit;

namespace TenantBackup.Tests.Infrastructure;

// Holds TestSchema to its promises: other tests rely on these facts instead of re-deriving them.
[Collection(PostgresCollection.Name)]
public sealed class TestSchemaTests(PostgresFixture fixture) : IAsyncLifetime
{
    private string _database = "";
    private NpgsqlConnection? _connection;

    private NpgsqlConnection Connection => _connection!;

    public async Task InitializeAsync()
    {
        _database = await fixture.CreateTenantDatabaseAsync();
        _connection = await fixture.OpenConnectionAsync(_database);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        await fixture.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task TemplateHasExactlyTheExpectedRelations()
    {
        var relations = await QueryAsync(
            """
            SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('public', 'billing') AND c.relkind IN ('r', 'p', 'v', 'm')
            """,
            reader => reader.GetString(0));

        var expected = TestSchema.ScopedTables.Concat(TestSchema.SharedTables).Concat(TestSchema.Partitions)
            .Select(table => table + (table == "public.events" ? ":p" : ":r"))
            .Append(TestSchema.View + ":v")
            .Append(TestSchema.MaterializedView + ":m");
        Assert.Equal(expected.Order(StringComparer.Ordinal), relations.Order(StringComparer.Ordinal));

        // Only the schemas we made: the scratch tables that build the data are gone.
        var schemas = await QueryAsync(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
            reader => reader.GetString(0));
        Assert.Equal(["billing", "public"], schemas.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TemplateHasTheHardCasesInItsCatalog()
    {
        Assert.Equal("citext", await ScalarAsync<string>("SELECT extname FROM pg_extension WHERE extname = 'citext'"));
        Assert.Equal(
            "free,pro,enterprise",
            await ScalarAsync<string>(
                "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'public.plan_tier'::regtype"));
        Assert.Equal("s", await ScalarAsync<string>(
            "SELECT attgenerated::text FROM pg_attribute WHERE attrelid = 'public.projects'::regclass AND attname = 'name_upper'"));
        Assert.Equal("a", await ScalarAsync<string>(
            "SELECT attidentity::text FROM pg_attribute WHERE attrelid = 'public.projects'::regclass AND attname = 'id'"));
        Assert.Equal("true false", await ScalarAsync<string>(
            $"SELECT condeferrable::text || ' ' || condeferred::text FROM pg_constraint WHERE conname = '{TestSchema.CycleConstraint}'"));
        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.audit_log'::regclass AND contype = 'p'"));
        Assert.Equal("{1,5}", await ScalarAsync<string>(
            "SELECT conkey::text FROM pg_constraint WHERE conrelid = 'public.documents'::regclass AND confrelid = conrelid"));
        Assert.Equal("{1,2}", await ScalarAsync<string>(
            "SELECT conkey::text FROM pg_constraint WHERE conrelid = 'public.document_versions'::regclass AND contype = 'f'"));
    }

    [Fact]
    public async Task EveryTenantHasItsExpectedRowsInEveryScopedTable()
    {
        foreach (var table in TestSchema.ScopedTables)
        {
            var all = await ScalarAsync<long>($"SELECT count(*) FROM {TableDump.QuoteName(table)}");
            var sum = 0;
            foreach (var tenant in TestSchema.AllTenants)
            {
                var count = await ScalarAsync<long>(
                    $"SELECT count(*) FROM {TableDump.QuoteName(table)} WHERE {TestSchema.TenantWhere(table, tenant)}");
                var expected = TestSchema.RowCount(table, tenant);
                Assert.True(count == expected, $"{table}, tenant {tenant}: {count} rows, expected {expected}");
                sum += (int)count;
            }

            Assert.True(TestSchema.Tenants.All(tenant => TestSchema.RowCount(table, tenant) > 0), table);
            // Every row belongs to some tenant: the filters miss nothing.
            Assert.True(all == sum, $"{table}: {all} rows in all, {sum} found through the tenant filters");
        }

        foreach (var (table, count) in TestSchema.SharedRowCounts)
        {
            Assert.Equal(count, await ScalarAsync<long>($"SELECT count(*) FROM {TableDump.QuoteName(table)}"));
        }
    }

    [Fact]
    public async Task EmptyTenantHasOnlyItsRootRow()
    {
        Assert.Equal(1, TestSchema.TotalRows(TestSchema.EmptyTenant));
        foreach (var table in TestSchema.ScopedTables)
        {
            var rows = await TableDump.RowsAsync(Connection, table, TestSchema.TenantWhere(table, TestSchema.EmptyTenant));
            Assert.True(rows.Count == (table == TestSchema.RootTable ? 1 : 0), $"{table}: {rows.Count} rows for tenant 4");
        }
    }

    [Fact]
    public async Task EventsFillBothPartitionsForEveryTenant()
    {
        foreach (var tenant in TestSchema.Tenants)
        {
            var in2025 = await ScalarAsync<long>($"SELECT count(*) FROM public.events_2025 WHERE tenant_id = {tenant}");
            var in2026 = await ScalarAsync<long>($"SELECT count(*) FROM public.events_2026 WHERE tenant_id = {tenant}");
            Assert.Equal(TestSchema.Events2025[tenant], in2025);
            Assert.Equal(TestSchema.RowCount("public.events", tenant) - TestSchema.Events2025[tenant], in2026);
        }
    }

    [Fact]
    public async Task ReferencesFormTheAdvertisedShapes()
    {
        foreach (var tenant in TestSchema.Tenants)
        {
            // Employee 1 reports to a later employee, and that head reports to nobody.
            Assert.Equal(1L, await ScalarAsync<long>(
                $"SELECT count(*) FROM public.employees WHERE tenant_id = {tenant} AND manager_id IS NULL"));
            Assert.True(await ScalarAsync<bool>(
                $"SELECT manager_id > id FROM public.employees WHERE tenant_id = {tenant} ORDER BY id LIMIT 1"));

            // Document 3's parent has a higher number.
            Assert.True(await ScalarAsync<bool>(
                $"SELECT parent_doc_no > doc_no FROM public.documents WHERE tenant_id = {tenant} AND doc_no = 3"));

            Assert.Equal(TestSchema.ManagedStores[tenant], await ScalarAsync<long>(
                $"""
                SELECT count(*) FROM public.stores s JOIN public.staff f ON f.id = s.manager_staff_id
                WHERE s.tenant_id = {tenant} AND f.store_id = s.id AND f.tenant_id = s.tenant_id
                """));

            // Two identical audit rows: nothing but their count tells them apart.
            Assert.Equal(1L, await ScalarAsync<long>(
                $"""
                SELECT count(*) FROM (
                    SELECT 1 FROM public.audit_log WHERE tenant_id = {tenant}
                    GROUP BY tenant_id, at, action, detail::text HAVING count(*) > 1) duplicates
                """));
        }

        // Keys interleave the tenants.
        Assert.Equal(
            [1, 2, 3],
            await QueryAsync("SELECT tenant_id FROM public.customers ORDER BY id LIMIT 3", reader => reader.GetInt32(0)));
    }

    [Fact]
    public async Task SequencesContinueAfterTheExistingKeys()
    {
        string[] tables = ["public.customers", "public.projects", "public.employees", "public.stores", "public.staff", "billing.Charges"];
        foreach (var table in tables)
        {
            var quoted = TableDump.QuoteName(table);
            Assert.True(
                await ScalarAsync<bool>(
                    $"SELECT nextval(pg_get_serial_sequence('{quoted.Replace("'", "''")}', 'id')) > (SELECT max(id) FROM {quoted})"),
                table);
        }
    }

    [Fact]
    public async Task TextEdgeCasesRoundTripInEveryTenant()
    {
        foreach (var tenant in TestSchema.Tenants)
        {
            var notes = await QueryAsync(
                $"SELECT notes FROM public.customers WHERE tenant_id = {tenant} ORDER BY id",
                reader => reader.IsDBNull(0) ? null : reader.GetString(0));
            var expected = Enumerable.Range(0, notes.Count).Select(i => TestSchema.EdgeCases.Notes[i % 10]);
            Assert.Equal(expected, notes);
            Assert.True(notes.Count >= 10);

            var bodies = await QueryAsync(
                $"SELECT body FROM public.documents WHERE tenant_id = {tenant} ORDER BY doc_no",
                reader => reader.IsDBNull(0) ? null : reader.GetString(0));
            Assert.Equal(Enumerable.Range(0, bodies.Count).Select(i => TestSchema.EdgeCases.Notes[i % 10]), bodies);

            Assert.Equal(TestSchema.EdgeCases.DocumentTitle, await ScalarAsync<string>(
                $"SELECT title FROM public.documents WHERE tenant_id = {tenant} AND doc_no = 2"));
            Assert.Equal(
                string.Format(CultureInfo.InvariantCulture, TestSchema.EdgeCases.UnicodeEmailFormat, tenant),
                await ScalarAsync<string>(
                    $"SELECT email::text FROM public.customers WHERE tenant_id = {tenant} ORDER BY id OFFSET 1 LIMIT 1"));
            // citext folds case with the database's collation; under the C locale that is ASCII only.
            Assert.Equal("true false", await ScalarAsync<string>(
                $"SELECT (email = 'Ünïcode.{tenant}@EXAMPLE.com')::text || ' ' || (email = 'üNÏCODE.{tenant}@example.com')::text " +
                $"FROM public.customers WHERE tenant_id = {tenant} ORDER BY id OFFSET 1 LIMIT 1"));
        }
    }

    [Fact]
    public async Task CustomerValuesRoundTripInEveryTenant()
    {
        foreach (var tenant in TestSchema.Tenants)
        {
            await using var command = new NpgsqlCommand(
                $"""
                SELECT tags, settings = $1::jsonb, settings ->> 'greeting', ip, balance::text
                FROM public.customers WHERE tenant_id = {tenant} ORDER BY id LIMIT 5
                """,
                Connection);
            command.Parameters.Add(new() { Value = TestSchema.EdgeCases.NestedJson, NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync();
            var addresses = new List<NpgsqlInet?>();
            var balances = new List<string?>();
            for (var i = 1; await reader.ReadAsync(); i++)
            {
                if (i == 1)
                {
                    Assert.Equal(TestSchema.EdgeCases.Tags, reader.GetFieldValue<string?[]>(0));
                    Assert.True(reader.GetBoolean(1));
                    Assert.Equal(TestSchema.EdgeCases.JsonGreeting, reader.GetString(2));
                }

                addresses.Add(reader.IsDBNull(3) ? default(NpgsqlInet?) : reader.GetFieldValue<NpgsqlInet>(3));
                balances.Add(reader.IsDBNull(4) ? null : reader.GetString(4));
            }

            var expectedAddresses = TestSchema.EdgeCases.Addresses.Select(ParseInet).Cast<NpgsqlInet?>().Append(null);
            Assert.Equal(expectedAddresses, addresses);
            Assert.Equal(TestSchema.EdgeCases.Balances, balances.Skip(1));
        }
    }

    [Fact]
    public async Task ProjectValuesRoundTripInEveryTenant()
    {
        foreach (var tenant in TestSchema.Tenants)
        {
            var rows = await QueryAsync(
                $"""
                SELECT budget::text, duration::text, starts_at, name, name_upper
                FROM public.projects WHERE tenant_id = {tenant} ORDER BY id LIMIT 4
                """,
                reader => (
                    Budget: reader.IsDBNull(0) ? null : reader.GetString(0),
                    Duration: reader.GetString(1),
                    StartsAt: reader.GetFieldValue<DateTime>(2),
                    Name: reader.GetString(3),
                    Upper: reader.GetString(4)));
            Assert.Equal(TestSchema.EdgeCases.Budgets, rows.Select(row => row.Budget));
            Assert.Equal(TestSchema.EdgeCases.Durations, rows.Select(row => row.Duration));
            Assert.Equal(TestSchema.EdgeCases.StartTimes.Select(time => time.UtcDateTime), rows.Select(row => row.StartsAt));
            Assert.All(rows, row => Assert.Equal(DateTimeKind.Utc, row.StartsAt.Kind));
            Assert.Equal(string.Format(CultureInfo.InvariantCulture, TestSchema.EdgeCases.UnicodeProjectNameFormat, tenant), rows[1].Name);
            // The C locale upper-cases ASCII only.
            Assert.Equal($"STRAßE CAFé 日本 {tenant}", rows[1].Upper);
        }
    }

    [Fact]
    public async Task BinaryAndLineValuesRoundTripInEveryTenant()
    {
        foreach (var tenant in TestSchema.Tenants)
        {
            var pdfs = await QueryAsync(
                $"""
                SELECT i.pdf FROM public.invoices i JOIN public.projects p ON p.id = i.project_id
                WHERE p.tenant_id = {tenant} ORDER BY i.number LIMIT 3
                """,
                reader => reader.IsDBNull(0) ? null : reader.GetFieldValue<byte[]>(0));
            Assert.Equal(TestSchema.EdgeCases.AllBytes, pdfs[0]);
            Assert.Empty(Assert.IsType<byte[]>(pdfs[TestSchema.EdgeCases.EmptyPdfInvoice - 1]));
            Assert.Null(pdfs[2]);

            Assert.Equal(TestSchema.EdgeCases.LineDescription, await ScalarAsync<string>(
                $"""
                SELECT l.description FROM public.invoice_lines l JOIN public.invoices i ON i.id = l.invoice_id
                WHERE i.number = 'INV-{tenant}-0001' AND l.line_no = 1
                """));

            var boundary = await QueryAsync(
                $"SELECT occurred_at, tableoid::regclass::text FROM public.events WHERE tenant_id = {tenant} AND id IN (1, 2) ORDER BY id",
                reader => (At: reader.GetFieldValue<DateTime>(0), Partition: reader.GetString(1)));
            Assert.Equal(TestSchema.EdgeCases.PartitionBoundary.Select(time => time.UtcDateTime), boundary.Select(row => row.At));
            Assert.Equal(["events_2025", "events_2026"], boundary.Select(row => row.Partition));

        }
    }

    private static NpgsqlInet ParseInet(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = IPAddress.Parse(slash < 0 ? text : text[..slash]);
        var hostMask = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var mask = slash < 0 ? (byte)hostMask : byte.Parse(text[(slash + 1)..], CultureInfo.InvariantCulture);
        return new NpgsqlInet(address, mask);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = new NpgsqlCommand(sql, Connection);
        var value = await command.ExecuteScalarAsync();
        Assert.False(value is null or DBNull, $"no value from: {sql}");
        return (T)value!;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read)
    {
        var results = new List<T>();
        await using var command = new NpgsqlCommand(sql, Connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            results.Add(read(reader));
        }

        return results;
    }
}
