using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// Remapping, set-based: surrogate keys that other tenants already use get new values in small old → new map tables,
// and each table's restored rows are a query over its staged rows that puts in the target tenant and the new keys,
// for the key itself and for every foreign key column that references it, at any depth. The staged rows are never
// rewritten: the restored values are computed once, as the rows go into the tenant's table.
internal sealed partial class RestoreSession
{
    /// <summary>
    /// Finds key collisions and allocates new keys for them. New values come from the keys' sequences (or are new
    /// uuids); with <paramref name="simulate"/> (a plan) the sequences are left alone. Returns every collision, remapped
    /// or refused; afterwards each table's <see cref="RestoreTable.RestoredSql"/> gives its rows as they will be written.
    /// </summary>
    public async Task<List<KeyCollisionInfo>> RemapAsync(bool simulate, CancellationToken cancellationToken)
    {
        var collisions = new List<KeyCollisionInfo>();
        var remapped = new List<RestoreTable>();
        foreach (var table in Tables.Where(t => t.SurrogateKey is not null))
        {
            var refuse = _request.KeyCollision == KeyCollisionAction.Fail;
            table.Remapped = await MapCollisionsAsync(table, refuse, simulate, cancellationToken).ConfigureAwait(false);
            if (table.Remapped == 0)
            {
                continue;
            }

            collisions.Add(await CollisionAsync(
                    table,
                    [table.SurrogateKey!],
                    true,
                    table.Remapped,
                    $"SELECT old::text FROM {table.MapName} ORDER BY old",
                    refuse,
                    cancellationToken)
                .ConfigureAwait(false));
            if (refuse)
            {
                table.Remapped = 0;
            }
            else
            {
                remapped.Add(table);
            }
        }

        foreach (var table in Tables)
        {
            table.RestoredSql = RestoredRows(table, remapped);
        }

        collisions.AddRange(await NaturalCollisionsAsync(cancellationToken).ConfigureAwait(false));
        return collisions;
    }

    /// <summary>
    /// Fills the table's map with its staged keys that rows outside the target tenant use, each with a new value:
    /// a new uuid, or the next numbers after every value in use, in the archive and in the sequence. The sequence is
    /// then moved past them, so the application's next rows never take them.
    /// </summary>
    private async Task<long> MapCollisionsAsync(RestoreTable table, bool refuse, bool simulate, CancellationToken cancellationToken)
    {
        var key = Sql.Ident(table.SurrogateKey!);
        var type = table.Catalog.Column(table.SurrogateKey!).Type;
        await ExecuteAsync($"CREATE TEMP TABLE {table.MapName} (old {type} PRIMARY KEY, new {type}) ON COMMIT DROP", cancellationToken)
            .ConfigureAwait(false);
        var sequence = type == "uuid"
            ? null
            : table.Catalog.Sequences.First(s => string.Equals(s.Column, table.SurrogateKey, StringComparison.Ordinal)).Sequence;
        var newValue = refuse
            ? "NULL"
            : sequence is null ? "pg_catalog.gen_random_uuid()" : "b.base + row_number() OVER (ORDER BY s." + key + ")";
        var highest = sequence is null
            ? "NULL::bigint"
            : $"GREATEST((SELECT max({key}) FROM {table.StageName}), (SELECT max({key}) FROM {table.SqlName}), " +
                $"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence}))::bigint";

        // One index probe per staged row (a subquery with LIMIT is never turned into a join), so the cost follows the
        // tenant's size, not the table's.
        var mapped = await ExecuteAsync(
            $"WITH b AS (SELECT {highest} AS base) " +
            $"INSERT INTO {table.MapName} (old, new) SELECT s.{key}, {newValue} FROM {table.StageName} s, b " +
            $"WHERE (SELECT true FROM {table.SqlName} t0 WHERE t0.{key} = s.{key} AND NOT ({table.Target.FilterSql}) LIMIT 1)",
            cancellationToken).ConfigureAwait(false);
        if (mapped > 0 && sequence is not null && !refuse && !simulate)
        {
            // Values handed out by another session in between are caught by the primary key when the rows are written.
            await Db.ExecuteAsync(
                    _connection,
                    $"SELECT pg_catalog.setval($1::regclass, (SELECT max(new) FROM {table.MapName})::bigint)",
                    cancellationToken,
                    Db.Param(sequence))
                .ConfigureAwait(false);
        }

        return mapped;
    }

    /// <summary>
    /// The query (alias-free, to be used as <c>FROM (...) s</c>) of the table's rows as they will be restored: the
    /// target tenant in the tenant column and the root key, the request's root values in the root row, new keys from
    /// the maps of <paramref name="remapped"/> tables in the key and in every column that references it.
    /// </summary>
    private string RestoredRows(RestoreTable table, List<RestoreTable> remapped)
    {
        var rootKey = RootKey();
        var root = Scope.Root?.Table.QualifiedName;
        var joins = new List<string>();
        var values = new List<string>();
        foreach (var column in table.Columns)
        {
            var name = Sql.Ident(column);
            var type = table.Catalog.Column(column).Type;
            var map = MapFor(table, column, remapped);
            string value;
            if (table.IsRoot && _rootValues.TryGetValue(column, out var rootValue))
            {
                value = rootValue;
            }
            else if (Cloning
                && ((table.IsRoot && column == rootKey) || (table.Target.Kind == ScopeKind.Direct && column == Scope.TenantColumn)))
            {
                value = TargetValue(type);
            }
            else if (map is not null)
            {
                var alias = $"m{joins.Count}";
                joins.Add($" LEFT JOIN {map.MapName} {alias} ON {alias}.old = s0.{name}");
                value = $"COALESCE({alias}.new, s0.{name})";
            }
            else if (Cloning && root is not null && rootKey is not null
                && References(table, root, rootKey).Contains(column, StringComparer.Ordinal))
            {
                // Other columns that point at the tenant's root row (e.g. created_for_tenant) follow it.
                value = $"CASE WHEN s0.{name} = {SourceValue(type)} THEN {TargetValue(type)} ELSE s0.{name} END";
            }
            else
            {
                values.Add($"s0.{name}");
                continue;
            }

            values.Add($"{value} AS {name}");
        }

        return values.All(v => v.StartsWith("s0.", StringComparison.Ordinal))
            ? table.StageName
            : $"(SELECT {string.Join(", ", values)} FROM {table.StageName} s0{string.Concat(joins)})";
    }

    /// <summary>The remapped table whose key <paramref name="column"/> is, or references.</summary>
    private static RestoreTable? MapFor(RestoreTable table, string column, List<RestoreTable> remapped)
    {
        if (remapped.Contains(table) && column == table.SurrogateKey)
        {
            return table;
        }

        return remapped.FirstOrDefault(
            parent => References(table, parent.Name, parent.SurrogateKey!).Contains(column, StringComparer.Ordinal));
    }

    /// <summary>The root table's key column: what the direct tables' tenant column references.</summary>
    private string? RootKey()
    {
        var root = Scope.Root;
        return root is null
            ? null
            : Scope.Tables
                .SelectMany(t => t.Table.ForeignKeys)
                .Where(fk => fk.Columns.Count == 1 && string.Equals(fk.Columns[0], Scope.TenantColumn, StringComparison.Ordinal)
                    && string.Equals(fk.ReferencesQualifiedName, root.Table.QualifiedName, StringComparison.Ordinal))
                .Select(fk => fk.ReferencesColumns[0])
                .FirstOrDefault();
    }

    /// <summary>
    /// Columns of <paramref name="table"/> that reference <paramref name="column"/> of <paramref name="parent"/>, through any foreign key.
    /// </summary>
    private static IEnumerable<string> References(RestoreTable table, string parent, string column) =>
        table.Catalog.ForeignKeys
            .Where(fk => string.Equals(fk.ReferencesQualifiedName, parent, StringComparison.Ordinal))
            .SelectMany(fk => fk.Columns.Where((_, i) => string.Equals(fk.ReferencesColumns[i], column, StringComparison.Ordinal)))
            .Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Staged rows whose primary or unique key another tenant already uses: natural keys cannot be renumbered, so these are refused.
    /// </summary>
    private async Task<List<KeyCollisionInfo>> NaturalCollisionsAsync(CancellationToken cancellationToken)
    {
        var collisions = new List<KeyCollisionInfo>();
        foreach (var table in Tables)
        {
            var keys = new[] { table.Catalog.PrimaryKey }.Concat(table.Catalog.UniqueKeys)
                .OfType<IReadOnlyList<string>>()
                .Where(k => !(k.Count == 1 && string.Equals(k[0], table.SurrogateKey, StringComparison.Ordinal)))
                .Where(k => k.All(c => table.Columns.Contains(c, StringComparer.Ordinal)))
                .DistinctBy(k => string.Join("\u0001", k), StringComparer.Ordinal);
            foreach (var key in keys)
            {
                var colliding = $"FROM {table.RestoredSql} s " +
                    $"WHERE (SELECT true FROM {table.SqlName} t0 " +
                    $"WHERE {RestoreTable.Match(key)} AND NOT ({table.Target.FilterSql}) LIMIT 1)";
                var count = await CountAsync($"SELECT count(*) {colliding}", cancellationToken).ConfigureAwait(false);
                if (count > 0)
                {
                    var row = key.Count == 1
                        ? $"s.{Sql.Ident(key[0])}::text"
                        : $"ROW({string.Join(", ", key.Select(c => "s." + Sql.Ident(c)))})::text";
                    collisions.Add(await CollisionAsync(
                            table, key, false, count, $"SELECT {row} {colliding} ORDER BY 1", true, cancellationToken)
                        .ConfigureAwait(false));
                }
            }
        }

        return collisions;
    }

    private async Task<KeyCollisionInfo> CollisionAsync(
        RestoreTable table,
        IReadOnlyList<string> columns,
        bool surrogate,
        long count,
        string examplesSql,
        bool refuse,
        CancellationToken cancellationToken)
    {
        var examples = await Db.QueryAsync(
                _connection, examplesSql + " LIMIT 5", r => r.IsDBNull(0) ? "NULL" : r.GetString(0), cancellationToken)
            .ConfigureAwait(false);
        return new KeyCollisionInfo
        {
            Table = table.Name,
            Columns = columns,
            Surrogate = surrogate,
            Count = count,
            Examples = examples,
            Resolution = refuse ? "refuse" : "remap",
        };
    }

    /// <summary>
    /// Foreign keys from restored rows to rows the restore does not write: a table left out of a partial restore
    /// must already hold the target tenant's parent rows, and shared tables (e.g. countries) must hold the referenced rows.
    /// </summary>
    public async Task<List<string>> CheckReferencesAsync(CancellationToken cancellationToken)
    {
        var restored = Tables.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var scoped = Scope.Tables.ToDictionary(t => t.Table.QualifiedName, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var table in Tables)
        {
            foreach (var fk in table.Catalog.ForeignKeys.Where(fk => !restored.Contains(fk.ReferencesQualifiedName)))
            {
                var parent = scoped.GetValueOrDefault(fk.ReferencesQualifiedName);
                var join = string.Join(" AND ", fk.Columns.Zip(fk.ReferencesColumns, (c, p) => $"t0.{Sql.Ident(p)} = s.{Sql.Ident(c)}"));
                var tenantOnly = parent is null ? "" : $" AND {parent.FilterSql}";
                var parentSql = parent?.Table.SqlName ?? $"{Sql.Ident(fk.ReferencesSchema)}.{Sql.Ident(fk.ReferencesTable)}";
                var count = await CountAsync(
                    $"SELECT count(*) FROM {table.RestoredSql} s " +
                    $"WHERE {string.Join(" AND ", fk.Columns.Select(c => $"s.{Sql.Ident(c)} IS NOT NULL"))} " +
                    $"AND (SELECT true FROM {parentSql} t0 WHERE {join}{tenantOnly} LIMIT 1) IS NULL",
                    cancellationToken).ConfigureAwait(false);
                if (count > 0)
                {
                    problems.Add(parent is null
                        ? $"{count} row(s) of {table.Name} reference rows of the shared table {fk.ReferencesQualifiedName} " +
                            "that the target does not have " +
                            $"({fk.Name}); add them to {fk.ReferencesQualifiedName} first."
                        : $"{count} row(s) of {table.Name} reference rows of {fk.ReferencesQualifiedName} ({fk.Name}) " +
                            "that the target tenant does not have, " +
                            $"and {fk.ReferencesQualifiedName} is not being restored; restore it too (-IncludeTable / --include-table), " +
                            "or restore the whole tenant.");
                }
            }
        }

        return problems;
    }
}
