using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// Remapping, set-based on the staged rows: the tenant value when restoring into another tenant, then surrogate keys
// that other tenants already use, with every foreign key column that references them, at any depth.
internal sealed partial class RestoreSession
{
    /// <summary>
    /// Rewrites the staged rows for the target tenant and finds key collisions. New key values come from the keys'
    /// sequences (or new uuids); with <paramref name="simulate"/> (a plan) they are stand-ins above every used value,
    /// so that sequences are not advanced. Returns every collision, remapped or refused.
    /// </summary>
    public async Task<List<KeyCollisionInfo>> RemapAsync(bool simulate, CancellationToken cancellationToken)
    {
        if (Cloning)
        {
            await RemapTenantAsync(cancellationToken).ConfigureAwait(false);
        }

        var collisions = new List<KeyCollisionInfo>();
        var remapped = new List<RestoreTable>();
        foreach (var table in Tables.Where(t => t.SurrogateKey is not null))
        {
            var key = Sql.Ident(table.SurrogateKey!);
            var type = table.Catalog.Column(table.SurrogateKey!).Type;
            await ExecuteAsync($"CREATE TEMP TABLE {table.MapName} (old {type} PRIMARY KEY, new {type}) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
            table.Remapped = await ExecuteAsync(
                $"INSERT INTO {table.MapName} (old) SELECT s.{key} FROM {table.StageName} s " +
                $"WHERE EXISTS (SELECT 1 FROM {table.SqlName} t0 WHERE t0.{key} = s.{key} AND NOT ({table.Target.FilterSql}))",
                cancellationToken).ConfigureAwait(false);
            if (table.Remapped == 0)
            {
                continue;
            }

            var refuse = _request.KeyCollision == KeyCollisionAction.Fail;
            collisions.Add(await CollisionAsync(table, [table.SurrogateKey!], true, table.Remapped, $"SELECT old::text FROM {table.MapName} ORDER BY old", refuse, cancellationToken)
                .ConfigureAwait(false));
            if (!refuse)
            {
                await AllocateAsync(table, simulate, cancellationToken).ConfigureAwait(false);
                remapped.Add(table);
            }
            else
            {
                table.Remapped = 0;
            }
        }

        foreach (var table in remapped)
        {
            await ApplyMapAsync(table, cancellationToken).ConfigureAwait(false);
        }

        collisions.AddRange(await NaturalCollisionsAsync(cancellationToken).ConfigureAwait(false));
        return collisions;
    }

    /// <summary>The tenant column of direct tables, the root row's key, and other references to the root row take the target tenant.</summary>
    private async Task RemapTenantAsync(CancellationToken cancellationToken)
    {
        var root = Scope.Root;
        var rootKey = RootKey();
        foreach (var table in Tables)
        {
            var sets = new List<string>();
            if (table.IsRoot && rootKey is not null)
            {
                sets.Add($"{Sql.Ident(rootKey)} = {TargetValue(table.Catalog.Column(rootKey).Type)}");
            }

            if (table.Target.Kind == ScopeKind.Direct)
            {
                sets.Add($"{Sql.Ident(Scope.TenantColumn)} = {TargetValue(table.Catalog.Column(Scope.TenantColumn).Type)}");
            }

            if (sets.Count > 0)
            {
                await ExecuteAsync($"UPDATE {table.StageName} SET {string.Join(", ", sets)}", cancellationToken).ConfigureAwait(false);
            }

            if (root is null || rootKey is null)
            {
                continue;
            }

            // Other columns that point at the tenant's root row (e.g. created_for_tenant) follow it.
            var others = References(table, root.Table.QualifiedName, rootKey)
                .Where(c => !(table.Target.Kind == ScopeKind.Direct && string.Equals(c, Scope.TenantColumn, StringComparison.Ordinal)));
            foreach (var column in others)
            {
                var type = table.Catalog.Column(column).Type;
                await ExecuteAsync(
                    $"UPDATE {table.StageName} SET {Sql.Ident(column)} = {TargetValue(type)} WHERE {Sql.Ident(column)} = {SourceValue(type)}",
                    cancellationToken).ConfigureAwait(false);
            }
        }
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

    /// <summary>Columns of <paramref name="table"/> that reference <paramref name="column"/> of <paramref name="parent"/>, through any foreign key.</summary>
    private static IEnumerable<string> References(RestoreTable table, string parent, string column) =>
        table.Catalog.ForeignKeys
            .Where(fk => string.Equals(fk.ReferencesQualifiedName, parent, StringComparison.Ordinal))
            .SelectMany(fk => fk.Columns.Where((_, i) => string.Equals(fk.ReferencesColumns[i], column, StringComparison.Ordinal)))
            .Distinct(StringComparer.Ordinal);

    /// <summary>
    /// New values for the colliding keys. A sequence is first moved past every value in use and in the archive, so
    /// its next values collide with nothing; it never moves backwards.
    /// </summary>
    private async Task AllocateAsync(RestoreTable table, bool simulate, CancellationToken cancellationToken)
    {
        var key = Sql.Ident(table.SurrogateKey!);
        var type = table.Catalog.Column(table.SurrogateKey!).Type;
        if (type == "uuid")
        {
            await ExecuteAsync($"UPDATE {table.MapName} SET new = pg_catalog.gen_random_uuid()", cancellationToken).ConfigureAwait(false);
            return;
        }

        var sequence = table.Catalog.Sequences.First(s => string.Equals(s.Column, table.SurrogateKey, StringComparison.Ordinal)).Sequence;
        var highest = $"GREATEST((SELECT max({key}) FROM {table.StageName}), (SELECT max({key}) FROM {table.SqlName}), " +
            $"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence}))::bigint";
        if (simulate)
        {
            await ExecuteAsync(
                $"UPDATE {table.MapName} m SET new = x.base + x.n FROM (SELECT old, {highest} AS base, row_number() OVER (ORDER BY old) AS n FROM {table.MapName}) x " +
                "WHERE m.old = x.old",
                cancellationToken).ConfigureAwait(false);
            return;
        }

        await Db.ExecuteAsync(_connection, $"SELECT pg_catalog.setval($1::regclass, {highest})", cancellationToken, Db.Param(sequence)).ConfigureAwait(false);
        await Db.ExecuteAsync(_connection, $"UPDATE {table.MapName} SET new = pg_catalog.nextval($1::regclass)", cancellationToken, Db.Param(sequence))
            .ConfigureAwait(false);
    }

    /// <summary>Applies a table's old → new key map to its own rows and to every staged column that references the key.</summary>
    private async Task ApplyMapAsync(RestoreTable parent, CancellationToken cancellationToken)
    {
        await ExecuteAsync($"ANALYZE {parent.MapName}", cancellationToken).ConfigureAwait(false);
        var key = parent.SurrogateKey!;
        await ExecuteAsync(
            $"UPDATE {parent.StageName} s SET {Sql.Ident(key)} = m.new FROM {parent.MapName} m WHERE s.{Sql.Ident(key)} = m.old", cancellationToken).ConfigureAwait(false);
        foreach (var table in Tables)
        {
            foreach (var column in References(table, parent.Name, key))
            {
                await ExecuteAsync(
                    $"UPDATE {table.StageName} s SET {Sql.Ident(column)} = m.new FROM {parent.MapName} m WHERE s.{Sql.Ident(column)} = m.old",
                    cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Staged rows whose primary or unique key another tenant already uses: natural keys cannot be renumbered, so these are refused.</summary>
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
                var colliding = $"FROM {table.StageName} s WHERE EXISTS (SELECT 1 FROM {table.SqlName} t0 WHERE {RestoreTable.Match(key)} AND NOT ({table.Target.FilterSql}))";
                var count = await CountAsync($"SELECT count(*) {colliding}", cancellationToken).ConfigureAwait(false);
                if (count > 0)
                {
                    var row = key.Count == 1 ? $"s.{Sql.Ident(key[0])}::text" : $"ROW({string.Join(", ", key.Select(c => "s." + Sql.Ident(c)))})::text";
                    collisions.Add(await CollisionAsync(table, key, false, count, $"SELECT {row} {colliding} ORDER BY 1", true, cancellationToken).ConfigureAwait(false));
                }
            }
        }

        return collisions;
    }

    private async Task<KeyCollisionInfo> CollisionAsync(
        RestoreTable table, IReadOnlyList<string> columns, bool surrogate, long count, string examplesSql, bool refuse, CancellationToken cancellationToken)
    {
        var examples = await Db.QueryAsync(_connection, examplesSql + " LIMIT 5", r => r.IsDBNull(0) ? "NULL" : r.GetString(0), cancellationToken).ConfigureAwait(false);
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
                    $"SELECT count(*) FROM {table.StageName} s WHERE {string.Join(" AND ", fk.Columns.Select(c => $"s.{Sql.Ident(c)} IS NOT NULL"))} " +
                    $"AND NOT EXISTS (SELECT 1 FROM {parentSql} t0 WHERE {join}{tenantOnly})",
                    cancellationToken).ConfigureAwait(false);
                if (count > 0)
                {
                    problems.Add(parent is null
                        ? $"{count} row(s) of {table.Name} reference rows of the shared table {fk.ReferencesQualifiedName} that the target does not have " +
                            $"({fk.Name}); add them to {fk.ReferencesQualifiedName} first."
                        : $"{count} row(s) of {table.Name} reference rows of {fk.ReferencesQualifiedName} ({fk.Name}) that the target tenant does not have, " +
                            $"and {fk.ReferencesQualifiedName} is not being restored; restore it too (-IncludeTable / --include-table), or restore the whole tenant.");
                }
            }
        }

        return problems;
    }
}
