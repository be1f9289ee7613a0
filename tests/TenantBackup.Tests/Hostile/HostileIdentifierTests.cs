using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// Names and tenant values an attacker (or an unlucky schema) would choose: a schema, tables and columns with quotes,
/// semicolons, spaces and unicode, one table named <c>x"; DROP TABLE y; --</c> beside a real table <c>y</c>, and text tenant
/// values full of quotes, backslashes, LIKE wildcards and SQL. Each tenant backs up and restores (Replace, then as a clone)
/// to exactly its rows, and no other row of any table, <c>y</c> included, changes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostileIdentifierTests(PostgresFixture fixture)
{
    private const string TenantColumn = "tenant key";
    private const string S = "\"Tenant \"\"Data\"\"; ü\"";
    private const string Root = S + ".\"Ténants \"\"root\"\"\"";
    private const string X = S + ".\"x\"\"; DROP TABLE y; --\"";
    private const string Child = S + ".\"child; table\"";

    private const string Schema = $"""
        CREATE TABLE y (id int PRIMARY KEY, note text NOT NULL);
        INSERT INTO y VALUES (1, 'must survive');
        CREATE SCHEMA {S};
        CREATE TABLE {Root} ("tenant key" text PRIMARY KEY, "na;me" text NOT NULL);
        CREATE TABLE {X} (
            id serial PRIMARY KEY,
            "tenant key" text NOT NULL REFERENCES {Root},
            "col ""quoted"" x" text,
            "semi;colon" int,
            "日本語 列" text,
            "a space" jsonb);
        CREATE TABLE {Child} (
            id serial PRIMARY KEY,
            "parent id" int NOT NULL REFERENCES {X} (id),
            "value ""v"" w" text);
        """;

    /// <summary>Every tenant in the database; <c>axb</c> and <c>100 percent</c> are there for a LIKE to match by mistake.</summary>
    private static readonly string[] AllTenants =
    [
        "100%", "100 percent", "%", "_", "a_b", "axb", "O'Brien \"q\"", "back\\slash\\\\", "'; DROP TABLE y; --", "\\N", "$1",
        "x\"; DROP TABLE y; --",
    ];

    public static TheoryData<string> Tenants() => new(AllTenants.Where(t => t is not ("100 percent" or "axb")));

    [Theory]
    [MemberData(nameof(Tenants))]
    public async Task A_tenant_with_a_hostile_value_in_hostile_tables_restores_exactly_and_touches_nothing_else(string tenant)
    {
        var database = await fixture.CreateDatabaseAsync();
        string repository = Directory.CreateTempSubdirectory("tb-hostile-names-").FullName;
        try
        {
            await using var connection = await fixture.OpenConnectionAsync(database);
            await SeedAsync(connection);
            var original = await TableDump.SnapshotAsync(connection);
            var shape = await ShapeAsync(connection, tenant);
            string cs = fixture.ConnectionStringFor(database);
            var backup = await new BackupEngine().BackupAsync(
                new BackupRequest { ConnectionString = cs, Tenant = tenant, TenantColumn = TenantColumn, Repository = repository },
                null,
                CancellationToken.None);
            Assert.Equal(3, backup.TableCount);
            Assert.Equal(1 + 2 + 2, backup.RowCount);

            await DeleteChildrenAsync(connection, tenant);
            await ExecAsync(connection, $"""UPDATE {X} SET "col ""quoted"" x" = 'changed' WHERE "tenant key" = @t""", tenant);
            await ExecAsync(connection, $"""INSERT INTO {X} ("tenant key", "col ""quoted"" x") VALUES (@t, 'added')""", tenant);
            await new RestoreEngine().RestoreAsync(
                new RestoreRequest { ConnectionString = cs, BackupId = backup.Id, Repository = repository }, null, CancellationToken.None);

            AssertSame(original, await TableDump.SnapshotAsync(connection), $"Replace of {tenant}");

            string clone = tenant + " clone; '\"%";
            var result = await new RestoreEngine().RestoreAsync(
                new RestoreRequest { ConnectionString = cs, BackupId = backup.Id, Repository = repository, TargetTenant = clone },
                null,
                CancellationToken.None);
            Assert.Equal(5, result.Tables.Sum(t => t.Inserted));
            Assert.Equal(shape, await ShapeAsync(connection, clone));

            await DeleteChildrenAsync(connection, clone);
            await ExecAsync(connection, $"""DELETE FROM {X} WHERE "tenant key" = @t""", clone);
            await ExecAsync(connection, $"""DELETE FROM {Root} WHERE "tenant key" = @t""", clone);
            AssertSame(original, await TableDump.SnapshotAsync(connection), $"clone of {tenant}, once removed");
            Assert.Equal("must survive", await ScalarAsync(connection, "SELECT note FROM y WHERE id = 1"));
        }
        finally
        {
            await fixture.DropDatabaseAsync(database);
            Directory.Delete(repository, recursive: true);
        }
    }

    private static async Task SeedAsync(NpgsqlConnection connection)
    {
        await ExecAsync(connection, Schema, null);
        foreach (string tenant in AllTenants)
        {
            await ExecAsync(connection, $"""INSERT INTO {Root} VALUES (@t, 'root of ' || @t)""", tenant);
            await ExecAsync(connection, $"""
                WITH parents AS (
                    INSERT INTO {X} ("tenant key", "col ""quoted"" x", "semi;colon", "日本語 列", "a space")
                    VALUES (@t, 'first "' || @t || '";', 1, '値 ' || @t, jsonb_build_object('k; "v"', @t)),
                           (@t, E'second\t\\N\n' || @t, NULL, NULL, '[]')
                    RETURNING id, "col ""quoted"" x"
                )
                INSERT INTO {Child} ("parent id", "value ""v"" w") SELECT id, 'child of ' || "col ""quoted"" x" FROM parents
                """, tenant);
        }
    }

    /// <summary>The tenant's rows without their surrogate keys, a child named by its parent's content.</summary>
    private static async Task<List<string>> ShapeAsync(NpgsqlConnection connection, string tenant)
    {
        var rows = new List<string>();
        string[] queries =
        [
            $"""SELECT 'root', "na;me" FROM {Root} WHERE "tenant key" = @t""",
            $"""SELECT 'x', "col ""quoted"" x", "semi;colon"::text, "日本語 列", "a space"::text FROM {X} WHERE "tenant key" = @t""",
            $"""
            SELECT 'child', x."col ""quoted"" x", c."value ""v"" w"
            FROM {Child} c JOIN {X} x ON x.id = c."parent id" WHERE x."tenant key" = @t
            """,
        ];
        foreach (string query in queries)
        {
            await using var command = new NpgsqlCommand(query, connection) { Parameters = { new("t", tenant) } };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var values = Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : reader.GetString(i));
                rows.Add(string.Join(" | ", values));
            }
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static void AssertSame(
        IReadOnlyDictionary<string, IReadOnlyList<string>> expected,
        IReadOnlyDictionary<string, IReadOnlyList<string>> actual,
        string what) =>
        Assert.True(
            TableDump.Fingerprint(expected) == TableDump.Fingerprint(actual),
            $"{what}:\n{TableDump.DescribeDifferences(expected, actual)}");

    private static Task DeleteChildrenAsync(NpgsqlConnection connection, string tenant) =>
        ExecAsync(connection, $"""DELETE FROM {Child} c USING {X} x WHERE x.id = c."parent id" AND x."tenant key" = @t""", tenant);

    private static async Task ExecAsync(NpgsqlConnection connection, string sql, string? tenant)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (tenant is not null)
        {
            command.Parameters.Add(new NpgsqlParameter("t", tenant));
        }

        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
