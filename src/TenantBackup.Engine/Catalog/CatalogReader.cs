using Npgsql;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Catalog;

/// <summary>
/// Reads tables, columns and keys from <c>pg_catalog</c>. Runs inside the caller's transaction, so a backup's
/// schema description comes from the same snapshot as its rows.
/// </summary>
internal static class CatalogReader
{
    private const string TablesSql = """
        SELECT c.oid, n.nspname, c.relname, c.relkind = 'p'
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
          AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1))
          -- tables that belong to an extension are the extension's, not the tenant's
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY n.nspname, c.relname
        """;

    private const string ColumnsSql = """
        SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> '', a.attidentity
        FROM pg_catalog.pg_attribute a
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY ($1) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
        """;

    // conparentid = 0 skips the copies PostgreSQL makes of a partitioned table's constraints on each partition.
    private const string ConstraintsSql = """
        SELECT con.conrelid, con.contype, con.conname,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
               fn.nspname, fc.relname,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
               con.condeferrable, con.condeferred
        FROM pg_catalog.pg_constraint con
        LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
        LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE con.contype IN ('p', 'u', 'f') AND con.conrelid = ANY ($1) AND con.conparentid = 0
        ORDER BY con.conrelid, con.conname
        """;

    private const string SequencesSql = """
        SELECT d.refobjid, a.attname, s.oid::regclass::text
        FROM pg_catalog.pg_class s
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
        JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE s.relkind = 'S' AND d.refobjid = ANY ($1)
        ORDER BY d.refobjid, a.attnum
        """;

    /// <summary>Every table of <paramref name="schemas"/> (all user schemas when empty).</summary>
    public static async Task<IReadOnlyList<CatalogTable>> ReadTablesAsync(
        NpgsqlConnection connection, IReadOnlyList<string> schemas, CancellationToken cancellationToken)
    {
        var heads = await Db.QueryAsync(
            connection,
            TablesSql,
            r => (Oid: r.GetFieldValue<uint>(0), Schema: r.GetString(1), Name: r.GetString(2), Partitioned: r.GetBoolean(3)),
            cancellationToken,
            Db.Param(schemas.ToArray())).ConfigureAwait(false);
        var oids = Db.OidArray(heads.Select(h => h.Oid).ToArray());

        var columns = (await Db.QueryAsync(connection, ColumnsSql, ReadColumn, cancellationToken, oids).ConfigureAwait(false))
            .ToLookup(c => c.Oid, c => c.Column);
        var constraints = (await Db.QueryAsync(connection, ConstraintsSql, ReadConstraint, cancellationToken, oids.Clone())
                .ConfigureAwait(false))
            .ToLookup(c => c.Oid);
        var sequences = (await Db.QueryAsync(
                connection,
                SequencesSql,
                r => (Oid: r.GetFieldValue<uint>(0), Sequence: new CatalogSequence(r.GetString(2), r.GetString(1))),
                cancellationToken,
                oids.Clone()).ConfigureAwait(false))
            .ToLookup(s => s.Oid, s => s.Sequence);

        return heads.Select(h => new CatalogTable(
                h.Oid,
                h.Schema,
                h.Name,
                h.Partitioned,
                columns[h.Oid].ToList(),
                constraints[h.Oid].FirstOrDefault(c => c.Type == 'p')?.Columns,
                constraints[h.Oid].Where(c => c.Type == 'u').Select(c => c.Columns).ToList(),
                constraints[h.Oid].Where(c => c.Type == 'f').Select(c => c.ForeignKey!).ToList(),
                sequences[h.Oid].ToList()))
            .ToList();
    }

    private static (uint Oid, CatalogColumn Column) ReadColumn(NpgsqlDataReader reader)
    {
        var identity = reader.GetChar(6) switch
        {
            'a' => "always",
            'd' => "by default",
            _ => null,
        };
        return (reader.GetFieldValue<uint>(0), new CatalogColumn(
            reader.GetString(1),
            reader.GetString(2),
            reader.GetBoolean(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.GetBoolean(5),
            identity));
    }

    private sealed record Constraint(uint Oid, char Type, IReadOnlyList<string> Columns, CatalogForeignKey? ForeignKey);

    private static Constraint ReadConstraint(NpgsqlDataReader reader)
    {
        var type = reader.GetChar(1);
        var columns = reader.GetFieldValue<string[]>(3);
        var foreignKey = type == 'f'
            ? new CatalogForeignKey(
                reader.GetString(2),
                columns,
                reader.GetString(4),
                reader.GetString(5),
                reader.GetFieldValue<string[]>(6),
                reader.GetBoolean(7),
                reader.GetBoolean(8))
            : null;
        return new Constraint(reader.GetFieldValue<uint>(0), type, columns, foreignKey);
    }
}
