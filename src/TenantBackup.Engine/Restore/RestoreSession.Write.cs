using Npgsql;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// Writing: the staged rows meet the tenant's current rows by mode (Replace, Merge, Append), parents first, with cycles
// broken, triggers optionally off, and sequences moved past what was restored.
internal sealed partial class RestoreSession
{
    /// <summary>What each table would get, counted against the current rows; changes nothing.</summary>
    public async Task<List<RestoreTablePlan>> PlanTablesAsync(CancellationToken cancellationToken)
    {
        var plans = new List<RestoreTablePlan>();
        foreach (var table in Tables)
        {
            long update = 0, delete = 0;
            if (_request.Mode == RestoreMode.Replace && !table.IsRoot)
            {
                delete = await CountAsync($"SELECT count(*) FROM {table.SqlName} t0 WHERE {table.Target.FilterSql}", cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                update = await CountAsync($"SELECT count(*) FROM {table.RestoredSql} s WHERE {Existing(table)}", cancellationToken)
                    .ConfigureAwait(false);
            }

            plans.Add(new RestoreTablePlan
            {
                Table = table.Name,
                ArchiveRows = table.Staged,
                Insert = table.Staged - update,
                Update = _request.Mode == RestoreMode.Append ? 0 : update,
                Delete = delete,
                Remap = table.Remapped,
            });
        }

        return plans;
    }

    /// <summary>Writes the staged rows into the tenant's tables. Every constraint is checked before this returns.</summary>
    public async Task WriteAsync(IProgress<ProgressEvent>? progress, bool moveSequences, CancellationToken cancellationToken)
    {
        foreach (var edge in Cycles.SelectMany(c => c.Edges).Where(e => e.BreakBy == "deferred"))
        {
            var schema = Tables.First(t => string.Equals(t.Name, edge.Table, StringComparison.Ordinal)).Catalog.Schema;
            await ExecuteAsync($"SET CONSTRAINTS {Sql.Ident(schema)}.{Sql.Ident(edge.Constraint)} DEFERRED", cancellationToken)
                .ConfigureAwait(false);
        }

        var disabled = _request.DisableTriggers ? await DisableTriggersAsync(cancellationToken).ConfigureAwait(false) : [];
        if (_request.Mode == RestoreMode.Replace)
        {
            await PurgeAsync(progress, cancellationToken).ConfigureAwait(false);
        }

        long rows = 0;
        for (var i = 0; i < Tables.Count; i++)
        {
            var table = Tables[i];
            progress?.Report(new ProgressEvent("write", table.Name, i, Tables.Count, rows, 0));
            PausePoints.Reach("restore.table");
            await InsertAsync(table, cancellationToken).ConfigureAwait(false);
            rows += table.Inserted + table.Updated;
        }

        foreach (var table in Tables.Where(t => t.NullThenUpdate.Count > 0))
        {
            var sets = string.Join(", ", table.NullThenUpdate.Select(c => $"{Sql.Ident(c)} = s.{Sql.Ident(c)}"));
            await RunAsync(
                table,
                $"UPDATE {table.SqlName} t0 SET {sets} FROM {table.RestoredSql} s WHERE {RestoreTable.Match(table.Catalog.PrimaryKey!)}",
                cancellationToken).ConfigureAwait(false);
        }

        // setval is not transactional: a rehearsal, which is rolled back, leaves the sequences alone.
        foreach (var table in moveSequences ? Tables : [])
        {
            await MoveSequencesAsync(table, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (table, trigger, enable) in disabled)
        {
            await ExecuteAsync($"ALTER TABLE {table.SqlName} {enable} TRIGGER {Sql.Ident(trigger)}", cancellationToken)
                .ConfigureAwait(false);
        }

        // Deferred constraints are checked now, so a violation is reported before the files move and COMMIT.
        await RunAsync(null, "SET CONSTRAINTS ALL IMMEDIATE", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the tenant's current rows, children first; the root row is overwritten in place instead.</summary>
    private async Task PurgeAsync(IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        foreach (var table in Tables.Where(t => t.NullThenUpdate.Count > 0))
        {
            var sets = string.Join(", ", table.NullThenUpdate.Select(c => $"{Sql.Ident(c)} = NULL"));
            await RunAsync(table, $"UPDATE {table.SqlName} t0 SET {sets} WHERE {table.Target.FilterSql}", cancellationToken)
                .ConfigureAwait(false);
        }

        var purged = 0;
        foreach (var table in Tables.Reverse().Where(t => !t.IsRoot))
        {
            progress?.Report(new ProgressEvent("purge", table.Name, purged++, Tables.Count, 0, 0));
            table.Deleted = await RunAsync(table, $"DELETE FROM {table.SqlName} t0 WHERE {table.Target.FilterSql}", cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private async Task InsertAsync(RestoreTable table, CancellationToken cancellationToken)
    {
        var values = string.Join(
            ", ", table.Columns.Select(c => table.NullThenUpdate.Contains(c, StringComparer.Ordinal) ? "NULL" : $"s.{Sql.Ident(c)}"));
        var overriding = table.Columns.Any(c => table.Catalog.Column(c).Identity is not null) ? " OVERRIDING SYSTEM VALUE" : "";
        var insert = $"INSERT INTO {table.SqlName} ({table.ColumnList}){overriding} SELECT {values} FROM {table.RestoredSql} s";
        if (_request.Mode == RestoreMode.Append)
        {
            table.Inserted = await RunAsync(table, $"{insert} WHERE NOT ({Existing(table)})", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (_request.Mode == RestoreMode.Replace && !table.IsRoot)
        {
            table.Inserted = await RunAsync(table, insert, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Merge, and the root row in Replace: overwrite in place, so rows that reference it are never orphaned.
        table.Updated = await CountAsync($"SELECT count(*) FROM {table.RestoredSql} s WHERE {Existing(table)}", cancellationToken)
            .ConfigureAwait(false);
        var conflict = ConflictColumns(table);
        var sets = table.Columns
            .Where(c => !conflict.Contains(c, StringComparer.Ordinal) && table.Catalog.Column(c).Identity != "always")
            .Select(c => $"{Sql.Ident(c)} = EXCLUDED.{Sql.Ident(c)}")
            .ToList();
        var action = sets.Count == 0 ? "NOTHING" : "UPDATE SET " + string.Join(", ", sets);
        var written = await RunAsync(
                table, $"{insert} ON CONFLICT ({string.Join(", ", conflict.Select(Sql.Ident))}) DO {action}", cancellationToken)
            .ConfigureAwait(false);
        table.Inserted = written - (sets.Count == 0 ? 0 : table.Updated);
    }

    /// <summary>The key a staged row meets a current row by: the root's tenant key, else the primary key.</summary>
    private IReadOnlyList<string> ConflictColumns(RestoreTable table) =>
        table.IsRoot && RootKey() is { } key ? [key] : table.Catalog.PrimaryKey!;

    /// <summary>
    /// The condition on staged row <c>s</c> that a current row already holds it: same key, or for a table without
    /// a primary key (Append only) the tenant's row with the same values in every column, compared as text. Written as
    /// a subquery with LIMIT, which PostgreSQL runs as one index probe per staged row instead of joining whole tables.
    /// </summary>
    private string Existing(RestoreTable table)
    {
        if (table.Catalog.PrimaryKey is not null || table.IsRoot)
        {
            return $"(SELECT true FROM {table.SqlName} t0 WHERE {RestoreTable.Match(ConflictColumns(table))} LIMIT 1) IS NOT NULL";
        }

        var same = string.Join(" AND ", table.Columns.Select(c => $"t0.{Sql.Ident(c)}::text IS NOT DISTINCT FROM s.{Sql.Ident(c)}::text"));
        return $"(SELECT true FROM {table.SqlName} t0 WHERE {same} AND {table.Target.FilterSql} LIMIT 1) IS NOT NULL";
    }

    /// <summary>Moves each sequence of the table past the largest value in the table now; never backwards.</summary>
    private async Task MoveSequencesAsync(RestoreTable table, CancellationToken cancellationToken)
    {
        foreach (var sequence in table.Catalog.Sequences.Where(s => table.Columns.Contains(s.Column, StringComparer.Ordinal)))
        {
            await Db.ExecuteAsync(
                _connection,
                "SELECT pg_catalog.setval($1::regclass, x.m) " +
                $"FROM (SELECT max({Sql.Ident(sequence.Column)})::bigint AS m FROM {table.SqlName}) x, {sequence.Sequence} q " +
                "WHERE x.m > CASE WHEN q.is_called THEN q.last_value ELSE q.last_value - 1 END",
                cancellationToken,
                Db.Param(sequence.Sequence)).ConfigureAwait(false);
        }
    }

    /// <summary>Disables the enabled user triggers of the restored tables; returns how to enable each one again as it was.</summary>
    private async Task<List<(RestoreTable Table, string Trigger, string Enable)>> DisableTriggersAsync(CancellationToken cancellationToken)
    {
        var disabled = new List<(RestoreTable, string, string)>();
        foreach (var table in Tables)
        {
            var triggers = await Db.QueryAsync(
                _connection,
                "SELECT tgname, tgenabled FROM pg_catalog.pg_trigger " +
                "WHERE tgrelid = $1::regclass AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname",
                r => (Name: r.GetString(0), Enabled: r.GetChar(1)),
                cancellationToken,
                Db.Param(table.SqlName)).ConfigureAwait(false);
            foreach (var (name, enabled) in triggers)
            {
                await ExecuteAsync($"ALTER TABLE {table.SqlName} DISABLE TRIGGER {Sql.Ident(name)}", cancellationToken)
                    .ConfigureAwait(false);
                disabled.Add((table, name, enabled switch { 'A' => "ENABLE ALWAYS", 'R' => "ENABLE REPLICA", _ => "ENABLE" }));
            }
        }

        return disabled;
    }

    /// <summary>Runs one writing statement; a failure names the table and the constraint and says that nothing was changed.</summary>
    private async Task<long> RunAsync(RestoreTable? table, string sql, CancellationToken cancellationToken)
    {
        try
        {
            return await ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("23", StringComparison.Ordinal)
            || e.SqlState.StartsWith("22", StringComparison.Ordinal)
            || e.SqlState == PostgresErrorCodes.RaiseException)
        {
            var name = e.TableName is { Length: > 0 } ? $"{e.SchemaName}.{e.TableName}" : table?.Name ?? "a restored table";
            var constraint = string.IsNullOrEmpty(e.ConstraintName) ? "" : $" (constraint {e.ConstraintName})";
            var detail = string.IsNullOrEmpty(e.Detail) ? "" : $" {e.Detail}";
            throw new TenantBackupException(
                ErrorCode.DatabaseError,
                $"Restoring {name} failed: {e.MessageText}{constraint}.{detail} The restore was rolled back; nothing was changed. " +
                "Fix the target (or leave the table out with -ExcludeTable / --exclude-table) and run it again.",
                name,
                e);
        }
    }
}
