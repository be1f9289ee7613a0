using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Catalog;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// One table of a restore: the archive's description of it, the target's catalog entry and tenant filter, its
/// staging temp table, and what the restore did to it.
/// </summary>
internal sealed class RestoreTable
{
    public RestoreTable(SchemaDocument.SchemaTable archive, ScopedTable target)
    {
        Archive = archive;
        Target = target;
        SurrogateKey = FindSurrogateKey(target);
        Columns = archive.DataColumns;
        RestoredSql = StageName;
    }

    public SchemaDocument.SchemaTable Archive { get; }

    /// <summary>The table in the target, with the condition (alias <c>t0</c>) that selects the target tenant's rows.</summary>
    public ScopedTable Target { get; }

    public CatalogTable Catalog => Target.Table;

    public string Name => Catalog.QualifiedName;

    public string SqlName => Catalog.SqlName;

    public bool IsRoot => Target.Kind == ScopeKind.Root;

    /// <summary>The archive's data columns, in entry order; the schema check made sure the target has each one, not generated.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The temp table the archive's rows are staged in.</summary>
    public string StageName => $"pg_temp.{Sql.Ident(FormattableString.Invariant($"tb_stage_{Archive.Ordinal:D4}"))}";

    /// <summary>
    /// The staged rows as they will be written (target tenant, new keys): the staging table itself, or a query over it
    /// to use as <c>FROM (...) s</c>.
    /// </summary>
    public string RestoredSql { get; set; }

    /// <summary>The temp table of old → new values of <see cref="SurrogateKey"/>.</summary>
    public string MapName => $"pg_temp.{Sql.Ident(FormattableString.Invariant($"tb_map_{Archive.Ordinal:D4}"))}";

    /// <summary>
    /// The single-column key a restore may renumber when another tenant uses a value: a primary key that is a
    /// sequence-backed integer or a uuid, and not itself a foreign key (that follows its parent instead).
    /// The root table's key is the tenant value and changes only with the target tenant.
    /// </summary>
    public string? SurrogateKey { get; }

    /// <summary>Columns that are inserted as NULL and set afterwards, to break a cycle of non-deferrable foreign keys.</summary>
    public List<string> NullThenUpdate { get; } = [];

    public string ColumnList => string.Join(", ", Columns.Select(Sql.Ident));

    public long Staged { get; set; }

    public long Remapped { get; set; }

    public long Inserted { get; set; }

    public long Updated { get; set; }

    public long Deleted { get; set; }

    /// <summary><c>t0.a = s.a AND t0.b = s.b</c> over <paramref name="columns"/>.</summary>
    public static string Match(IEnumerable<string> columns, string left = "t0", string right = "s") =>
        string.Join(" AND ", columns.Select(c => $"{left}.{Sql.Ident(c)} = {right}.{Sql.Ident(c)}"));

    public RestoreTableResult ToResult() => new()
    {
        Table = Name,
        ArchiveRows = Staged,
        Inserted = Inserted,
        Updated = Updated,
        Deleted = Deleted,
        Remapped = Remapped,
    };

    private static string? FindSurrogateKey(ScopedTable target)
    {
        var table = target.Table;
        if (target.Kind == ScopeKind.Root || table.PrimaryKey is not { Count: 1 } key)
        {
            return null;
        }

        var column = table.Column(key[0]);
        if (table.ForeignKeys.Any(fk => fk.Columns.Contains(column.Name, StringComparer.Ordinal)))
        {
            return null;
        }

        var sequenced = column.Type is "integer" or "bigint" or "smallint"
            && table.Sequences.Any(s => string.Equals(s.Column, column.Name, StringComparison.Ordinal));
        return sequenced || column.Type == "uuid" ? column.Name : null;
    }
}
