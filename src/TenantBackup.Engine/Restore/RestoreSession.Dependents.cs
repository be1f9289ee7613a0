using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// What a restore does not write but lives beside it: the tenant's tables the backup lacks (new since it was taken,
/// or left out of it), and rows of tables outside the restore that reference rows a Replace deletes.
/// </summary>
internal sealed partial class RestoreSession
{
    /// <summary>
    /// Tables that hold the target tenant's rows in the target but are not in the backup: the restore leaves their rows
    /// as they are, which the operator should know before restoring an older backup after a migration.
    /// </summary>
    private List<SchemaDifference> TablesNotInBackup()
    {
        var archived = _source.Schema.Tables.Select(t => $"{t.Schema}.{t.Name}").ToHashSet(StringComparer.Ordinal);
        return Scope.Tables
            .Where(t => !archived.Contains(t.Table.QualifiedName))
            .Select(t => new SchemaDifference
            {
                Table = t.Table.QualifiedName,
                Kind = "not-in-backup",
                Blocking = false,
                Message = $"{t.Table.QualifiedName} holds the tenant's rows in the target but is not in the backup " +
                    "(new since the backup, or left out of it); the restore leaves its rows as they are.",
            })
            .ToList();
    }

    /// <summary>
    /// Replace deletes the tenant's rows before it inserts the backup's. A row the restore does not write (in a table the
    /// backup lacks, one left out of a partial restore, or a shared table) that references one of them would make that
    /// DELETE fail half-way (NO ACTION, RESTRICT) or would be deleted or changed with it (CASCADE, SET NULL, SET DEFAULT)
    /// without the restore knowing. Both are found here, before any change, and refuse the restore.
    /// </summary>
    private async Task<List<RestoreProblem>> DependentsAsync(CancellationToken cancellationToken)
    {
        if (_request.Mode != RestoreMode.Replace)
        {
            return [];
        }

        // The root row is overwritten in place, never deleted, so what references it is safe.
        var purged = Tables.Where(t => !t.IsRoot).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var restored = Tables.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var problems = new List<RestoreProblem>();
        var oids = purged.Values.Select(t => t.Catalog.Oid).ToArray();
        foreach (var fk in await IncomingForeignKeysAsync(oids, cancellationToken).ConfigureAwait(false))
        {
            if (restored.Contains(fk.Child))
            {
                continue;
            }

            var parent = purged[fk.Parent];
            var join = string.Join(" AND ", fk.Columns.Zip(fk.ParentColumns, (c, p) => $"t0.{Sql.Ident(p)} = c.{Sql.Ident(c)}"));
            var count = await CountAsync(
                    $"SELECT count(*) FROM {fk.ChildSql} c WHERE EXISTS (SELECT 1 FROM {parent.SqlName} t0 WHERE {join} " +
                    $"AND {parent.Target.FilterSql})",
                    cancellationToken)
                .ConfigureAwait(false);
            if (count > 0)
            {
                problems.Add(new RestoreProblem(
                    ErrorCode.ScopeError,
                    $"{count} row(s) of {fk.Child}, which this restore does not write, reference rows of {parent.Name} " +
                    $"that Replace deletes before it inserts the backup's ({fk.Name}: {Consequence(fk.OnDelete)}). " +
                    $"Restore with -Mode Merge / --mode merge, which deletes nothing; restore {fk.Child} too if the backup " +
                    "has it; or move those rows out of the way first."));
            }
        }

        return problems;
    }

    private static string Consequence(char onDelete) => onDelete switch
    {
        'c' => "ON DELETE CASCADE would delete them with it",
        'n' => "ON DELETE SET NULL would clear their reference",
        'd' => "ON DELETE SET DEFAULT would change their reference",
        _ => "the delete would fail",
    };

    /// <summary>A foreign key as the check above needs it; <see cref="OnDelete"/> is pg_constraint.confdeltype.</summary>
    private sealed record IncomingForeignKey(
        string Name,
        string Child,
        string ChildSql,
        string Parent,
        IReadOnlyList<string> Columns,
        IReadOnlyList<string> ParentColumns,
        char OnDelete);

    /// <summary>
    /// The foreign keys that reference the tables of <paramref name="parents"/> (oids), by their declaring table (not the
    /// copies PostgreSQL keeps on partitions), from any schema: a table outside the backup's schemas may reference the
    /// tenant's rows too.
    /// </summary>
    private Task<List<IncomingForeignKey>> IncomingForeignKeysAsync(uint[] parents, CancellationToken cancellationToken) =>
        Db.QueryAsync(
            _connection,
            """
            SELECT c.conname, cn.nspname, cl.relname, pn.nspname, pl.relname, c.confdeltype,
                   ARRAY(SELECT a.attname FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[],
                   ARRAY(SELECT a.attname FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[]
            FROM pg_catalog.pg_constraint c
            JOIN pg_catalog.pg_class cl ON cl.oid = c.conrelid
            JOIN pg_catalog.pg_namespace cn ON cn.oid = cl.relnamespace
            JOIN pg_catalog.pg_class pl ON pl.oid = c.confrelid
            JOIN pg_catalog.pg_namespace pn ON pn.oid = pl.relnamespace
            WHERE c.contype = 'f' AND c.conparentid = 0 AND c.confrelid = ANY($1)
            ORDER BY cn.nspname, cl.relname, c.conname
            """,
            r => new IncomingForeignKey(
                r.GetString(0),
                $"{r.GetString(1)}.{r.GetString(2)}",
                $"{Sql.Ident(r.GetString(1))}.{Sql.Ident(r.GetString(2))}",
                $"{r.GetString(3)}.{r.GetString(4)}",
                r.GetFieldValue<string[]>(6),
                r.GetFieldValue<string[]>(7),
                r.GetChar(5)),
            cancellationToken,
            Db.OidArray(parents));
}
