using System.Text.Json;
using TenantBackup.Engine.Backup;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Backup;

/// <summary>The scope the engine finds in the test schema, read back from the archive's schema.json.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ScopeOnTestSchemaTests(PostgresFixture fixture)
{
    private async Task<(JsonDocument Schema, JsonDocument Manifest)> BackupAsync(
        Func<TenantBackup.Engine.BackupRequest, TenantBackup.Engine.BackupRequest>? change = null)
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var request = scratch.Request("1");
        var info = await new BackupEngine().BackupAsync(change is null ? request : change(request), null, CancellationToken.None);
        var (_, data) = await ArchiveContents.ReadAsync(info.Path);
        return (JsonDocument.Parse(data["schema.json"]), JsonDocument.Parse(data["manifest.json"]));
    }

    private static Dictionary<string, JsonElement> Tables(JsonDocument schema) =>
        schema.RootElement.GetProperty("tables").EnumerateArray()
            .ToDictionary(t => $"{t.GetProperty("schema").GetString()}.{t.GetProperty("name").GetString()}", StringComparer.Ordinal);

    [Fact]
    public async Task Root_direct_and_indirect_tables_are_found_and_shared_tables_views_and_partitions_are_not()
    {
        var (schema, manifest) = await BackupAsync();
        var tables = Tables(schema);

        Assert.Equal(TestSchema.ScopedTables.Order(StringComparer.Ordinal), tables.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("root", tables[TestSchema.RootTable].GetProperty("scope").GetString());
        Assert.All(TestSchema.DirectTables, t => Assert.Equal("direct", tables[t].GetProperty("scope").GetString()));
        Assert.All(TestSchema.IndirectTables, t => Assert.Equal("indirect", tables[t].GetProperty("scope").GetString()));
        Assert.Equal(2, tables["public.invoice_lines"].GetProperty("depth").GetInt32());
        Assert.Equal(["public.invoice_lines", "public.invoices", "public.projects"],
            tables["public.invoice_lines"].GetProperty("path").EnumerateArray().Select(p => p.GetString()));
        Assert.True(tables["public.events"].GetProperty("partitioned").GetBoolean());

        var shared = schema.RootElement.GetProperty("sharedReferences").EnumerateArray()
            .Select(r => r.GetProperty("references").GetString())
            .Distinct()
            .Order();
        Assert.Equal(TestSchema.SharedTables.Order(StringComparer.Ordinal), shared);

        // Partitioned events are read once, through the parent.
        var eventRows = manifest.RootElement.GetProperty("entries").EnumerateArray()
            .Where(e => e.TryGetProperty("table", out var t) && t.GetString() == "public.events")
            .Sum(e => e.GetProperty("rows").GetInt64());
        Assert.Equal(TestSchema.RowCount("public.events", 1), eventRows);
    }

    [Fact]
    public async Task Parents_come_before_children_and_the_stores_staff_cycle_is_recorded_with_its_deferrable_break()
    {
        var (schema, _) = await BackupAsync();
        var ordered = schema.RootElement.GetProperty("tables").EnumerateArray()
            .OrderBy(t => t.GetProperty("ordinal").GetInt32())
            .Select(t => $"{t.GetProperty("schema").GetString()}.{t.GetProperty("name").GetString()}")
            .ToList();

        Assert.Equal(TestSchema.RootTable, ordered[0]);
        foreach (var (child, parent) in new[]
        {
            ("public.projects", "public.customers"), ("public.invoices", "public.projects"), ("public.invoice_lines", "public.invoices"),
            ("public.document_versions", "public.documents"), ("billing.Charges", "billing.Payment Methods"),
            ("public.staff", "public.stores"),
        })
        {
            Assert.True(ordered.IndexOf(parent) < ordered.IndexOf(child), $"{parent} must come before {child}");
        }

        var cycle = Assert.Single(schema.RootElement.GetProperty("cycles").EnumerateArray());
        Assert.True(cycle.GetProperty("breakable").GetBoolean());
        Assert.Equal(["public.staff", "public.stores"], cycle.GetProperty("tables").EnumerateArray().Select(t => t.GetString()));
        var broken = Assert.Single(cycle.GetProperty("edges").EnumerateArray(), e => e.TryGetProperty("breakBy", out _));
        Assert.Equal(
            (TestSchema.CycleConstraint, "deferred"),
            (broken.GetProperty("constraint").GetString(), broken.GetProperty("breakBy").GetString()));
    }

    [Fact]
    public async Task Generated_columns_are_described_but_not_exported_and_types_are_schema_qualified()
    {
        var (schema, _) = await BackupAsync();
        var projects = Tables(schema)["public.projects"];

        var columns = projects.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.True(columns["name_upper"].GetProperty("generated").GetBoolean());
        Assert.Equal("always", columns["id"].GetProperty("identity").GetString());
        Assert.DoesNotContain("name_upper", projects.GetProperty("dataColumns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("public.citext", Tables(schema)["public.customers"].GetProperty("columns").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "email").GetProperty("type").GetString());
        Assert.Matches("^[0-9a-f]{64}$", schema.RootElement.GetProperty("fingerprint").GetString());
    }

    [Fact]
    public async Task Include_and_exclude_patterns_narrow_the_tables_backed_up()
    {
        var (included, _) = await BackupAsync(r => r with { IncludeTables = ["invoice*", "billing.*"] });
        Assert.Equal(
            ["billing.Charges", "billing.Payment Methods", "public.invoice_lines", "public.invoices"],
            Tables(included).Keys.Order(StringComparer.Ordinal));

        var (excluded, _) = await BackupAsync(r => r with { ExcludeTables = ["audit_log", "public.events"] });
        Assert.DoesNotContain("public.audit_log", Tables(excluded).Keys);
        Assert.DoesNotContain("public.events", Tables(excluded).Keys);
        Assert.Equal(TestSchema.ScopedTables.Count - 2, Tables(excluded).Count);
    }

    [Fact]
    public async Task Only_the_selected_schemas_are_searched()
    {
        var (schema, _) = await BackupAsync(r => r with { Schemas = ["public"] });

        Assert.DoesNotContain(Tables(schema).Keys, t => t.StartsWith("billing.", StringComparison.Ordinal));
        Assert.Contains("public.customers", Tables(schema).Keys);
    }
}
