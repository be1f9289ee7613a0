using System.Text.Json;
using System.Text.Json.Nodes;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;
using Xunit;

namespace TenantBackup.Tests.Archive;

/// <summary>Nulls that System.Text.Json lets into a document against its annotations, found before anything uses them.</summary>
public sealed class JsonNullsTests
{
    private static JsonObject Schema()
    {
        var document = new SchemaDocument
        {
            TenantColumn = "tenant_id",
            TenantType = "integer",
            Tables =
            [
                new SchemaDocument.SchemaTable
                {
                    Schema = "public",
                    Name = "notes",
                    Columns =
                    [
                        new CatalogColumn("id", "integer", true, null, false, null),
                        new CatalogColumn("tenant_id", "integer", true, null, false, null),
                    ],
                    DataColumns = ["id", "tenant_id"],
                    PrimaryKey = null,
                    UniqueKeys = [["id"]],
                    ForeignKeys = [new CatalogForeignKey("notes_tenant_fk", ["tenant_id"], "public", "tenants", ["id"], false, false)],
                },
            ],
        };
        return JsonSerializer.SerializeToNode(document, Json.Options)!.AsObject();
    }

    private static string? Missing(JsonObject json) =>
        JsonNulls.FirstMissing(json.Deserialize<SchemaDocument>(Json.Options)!);

    private static JsonObject Table(JsonObject json) => json["tables"]![0]!.AsObject();

    [Fact]
    public void A_whole_document_has_nothing_missing_and_an_absent_nullable_member_is_fine()
    {
        var json = Schema();
        Assert.Null(Missing(json));

        Table(json).Remove("primaryKey");
        Assert.Null(Missing(json));
    }

    [Fact]
    public void A_record_member_under_a_damaged_name_is_named_by_its_path()
    {
        var json = Schema();
        var foreignKey = Table(json)["foreignKeys"]![0]!.AsObject();
        foreignKey["colunms"] = foreignKey["columns"]!.DeepClone();
        foreignKey.Remove("columns");

        Assert.Equal("$.tables[0].foreignKeys[0].columns", Missing(json));
    }

    [Fact]
    public void A_null_item_of_a_list_of_non_null_items_is_named_by_its_index()
    {
        var json = Schema();
        Table(json)["uniqueKeys"] = new JsonArray(new JsonArray("id"), null);
        Assert.Equal("$.tables[0].uniqueKeys[1]", Missing(json));

        json = Schema();
        Table(json)["dataColumns"] = new JsonArray("id", null);
        Assert.Equal("$.tables[0].dataColumns[1]", Missing(json));
    }

    [Fact]
    public void An_explicit_null_for_a_non_null_string_is_missing()
    {
        var json = Schema();
        json["tenantColumn"] = null;

        Assert.Equal("$.tenantColumn", Missing(json));
    }
}
