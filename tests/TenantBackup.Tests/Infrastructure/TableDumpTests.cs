using Npgsql;
using Xunit;

namespace TenantBackup.Tests.Infrastructure;

[Collection(PostgresCollection.Name)]
public sealed class TableDumpTests(PostgresFixture fixture) : IAsyncLifetime
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
    public async Task RowsAreCopyTextLinesInOrdinalOrder()
    {
        var rows = await TableDump.RowsAsync(Connection, "public.customers", "tenant_id = 3");
        Assert.Equal(10, rows.Count);
        Assert.Equal(rows.Order(StringComparer.Ordinal), rows);

        // notes is the last column: SQL NULL is \N, the text "\N" is \\N, and control characters are escaped.
        var notes = rows.Select(row => row[(row.LastIndexOf('\t') + 1)..]).ToList();
        Assert.Contains("\\N", notes);
        Assert.Contains("\\\\N", notes);
        Assert.Contains("tab\\there", notes);
        Assert.Contains("carriage\\r\\nreturn", notes);
        Assert.Contains("", notes);
        Assert.DoesNotContain(rows, row => row.Contains('\n', StringComparison.Ordinal) || row.Contains('\r', StringComparison.Ordinal));
    }

    [Fact]
    public async Task BytesAreDumpedAsHex()
    {
        var rows = await TableDump.RowsAsync(Connection, "public.invoices", "number = 'INV-1-0001'");
        var expectedHex = "\\\\x" + Convert.ToHexStringLower(TestSchema.EdgeCases.AllBytes.ToArray());
        Assert.EndsWith("\t" + expectedHex, Assert.Single(rows), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("billing.Payment Methods")]
    [InlineData("billing.\"Payment Methods\"")]
    [InlineData("\"billing\".\"Payment Methods\"")]
    public async Task AcceptsBareAndQuotedNames(string name)
    {
        var rows = await TableDump.RowsAsync(Connection, name, TestSchema.TenantWhere("billing.Payment Methods", 1));
        Assert.Equal(TestSchema.RowCount("billing.Payment Methods", 1), rows.Count);
    }

    [Fact]
    public async Task PartitionedTableIsReadThroughTheParent()
    {
        var rows = await TableDump.RowsAsync(Connection, "public.events");
        Assert.Equal(TestSchema.Tenants.Sum(tenant => TestSchema.RowCount("public.events", tenant)), rows.Count);

        // The snapshot counts each row once: partitions yes, their parent not again; views are not tables.
        var snapshot = await TableDump.SnapshotAsync(Connection);
        Assert.Contains("public.events_2025", snapshot.Keys);
        Assert.Contains("public.events_2026", snapshot.Keys);
        Assert.DoesNotContain("public.events", snapshot.Keys);
        Assert.DoesNotContain(TestSchema.View, snapshot.Keys);
        Assert.DoesNotContain(TestSchema.MaterializedView, snapshot.Keys);
        Assert.Equal(rows.Count, snapshot["public.events_2025"].Count + snapshot["public.events_2026"].Count);
    }

    [Fact]
    public async Task CopiesOfTheTemplateAreIdentical()
    {
        var other = await fixture.CreateTenantDatabaseAsync();
        await using (var connection = await fixture.OpenConnectionAsync(other))
        {
            foreach (var table in TestSchema.ScopedTables.Concat(TestSchema.SharedTables))
            {
                Assert.Equal(await TableDump.RowsAsync(Connection, table), await TableDump.RowsAsync(connection, table));
            }

            Assert.Equal(await TableDump.FingerprintAsync(Connection), await TableDump.FingerprintAsync(connection));
        }

        await fixture.DropDatabaseAsync(other);
    }

    [Fact]
    public async Task FingerprintChangesWhenOneRowChangesAndOnlyThen()
    {
        var before = await TableDump.SnapshotAsync(Connection);
        var fingerprint = TableDump.Fingerprint(before);
        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        Assert.Equal(fingerprint, await TableDump.FingerprintAsync(Connection));

        // Reads, a rolled-back change and sequence use leave it alone.
        await ExecuteAsync("SELECT count(*) FROM public.customers");
        await ExecuteAsync("BEGIN; DELETE FROM public.invoice_lines; ROLLBACK");
        await ExecuteAsync("SELECT nextval(pg_get_serial_sequence('public.customers', 'id'))");
        await ExecuteAsync("REFRESH MATERIALIZED VIEW public.tenant_stats");
        Assert.Equal(fingerprint, await TableDump.FingerprintAsync(Connection));

        // One character of one row in a second schema.
        await ExecuteAsync("UPDATE billing.\"Charges\" SET note = note || '.' WHERE id = 1");
        var after = await TableDump.SnapshotAsync(Connection);
        Assert.NotEqual(fingerprint, TableDump.Fingerprint(after));
        var differences = TableDump.DescribeDifferences(before, after);
        Assert.StartsWith("billing.Charges: 28 -> 28 rows, 1 removed, 1 added", differences, StringComparison.Ordinal);
        Assert.Equal(3, differences.TrimEnd().Split('\n').Length);

        await ExecuteAsync("UPDATE billing.\"Charges\" SET note = left(note, -1) WHERE id = 1");
        Assert.Equal(fingerprint, await TableDump.FingerprintAsync(Connection));
        Assert.Equal("", TableDump.DescribeDifferences(before, await TableDump.SnapshotAsync(Connection)));
    }

    [Fact]
    public async Task FingerprintSeesDuplicateRowsAndNewTables()
    {
        var fingerprint = await TableDump.FingerprintAsync(Connection);

        // audit_log has no key: deleting one of two identical rows must still show.
        // The tenant's earliest row is one of its two identical ones.
        await ExecuteAsync(
            "DELETE FROM public.audit_log WHERE ctid = (SELECT ctid FROM public.audit_log WHERE tenant_id = 2 ORDER BY at LIMIT 1)");
        var withoutDuplicate = await TableDump.FingerprintAsync(Connection);
        Assert.NotEqual(fingerprint, withoutDuplicate);

        await ExecuteAsync("CREATE TABLE public.extra (id int)");
        Assert.NotEqual(withoutDuplicate, await TableDump.FingerprintAsync(Connection));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = new NpgsqlCommand(sql, Connection);
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class TableDumpNameTests
{
    [Theory]
    [InlineData("customers", "public", "customers")]
    [InlineData("public.customers", "public", "customers")]
    [InlineData("billing.Payment Methods", "billing", "Payment Methods")]
    [InlineData("billing.\"Payment Methods\"", "billing", "Payment Methods")]
    [InlineData("\"my.schema\".\"odd\"\"name\"", "my.schema", "odd\"name")]
    public void ParsesQualifiedNames(string text, string schema, string table) =>
        Assert.Equal((schema, table), TableDump.ParseName(text));

    [Theory]
    [InlineData("a.b.c")]
    [InlineData("\"open")]
    [InlineData("a.")]
    [InlineData("\"a\"x.b")]
    public void RejectsMalformedNames(string text) => Assert.Throws<ArgumentException>(() => TableDump.ParseName(text));

    [Fact]
    public void QuotesEveryPart() =>
        Assert.Equal("\"billing\".\"Payment Methods\"", TableDump.QuoteName("billing.Payment Methods"));
}
