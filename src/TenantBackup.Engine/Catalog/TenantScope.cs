namespace TenantBackup.Engine.Catalog;

/// <summary>Why a table belongs to the tenant.</summary>
public enum ScopeKind
{
    /// <summary>The table the tenant column points at (e.g. <c>tenants</c>); only the tenant's own row.</summary>
    Root,

    /// <summary>The table has the tenant column.</summary>
    Direct,

    /// <summary>The table reaches a scoped table through foreign keys.</summary>
    Indirect,
}

/// <summary>A table in the tenant's scope, with the SQL condition that selects the tenant's rows (table alias <c>t0</c>).</summary>
public sealed record ScopedTable(
    CatalogTable Table,
    ScopeKind Kind,
    int Depth,
    IReadOnlyList<string> Path,
    string FilterSql)
{
    /// <summary>Columns that are exported and restored: every column except generated ones.</summary>
    public IReadOnlyList<string> ExportColumns { get; } = Table.Columns.Where(c => !c.Generated).Select(c => c.Name).ToList();

    /// <summary>The query whose rows are the tenant's rows of this table, in <see cref="ExportColumns"/> order.</summary>
    public string SelectSql =>
        $"SELECT {string.Join(", ", ExportColumns.Select(c => "t0." + Sql.Ident(c)))} FROM {Table.SqlName} t0 WHERE {FilterSql}";
}

/// <summary>A foreign key between two scoped tables that lies on a cycle, and how a restore breaks it.</summary>
/// <param name="Constraint">The constraint's name.</param>
/// <param name="Table">The referencing table, <c>schema.table</c>.</param>
/// <param name="References">The referenced table, <c>schema.table</c>.</param>
/// <param name="Deferrable">The constraint is <c>DEFERRABLE</c>.</param>
/// <param name="Nullable">Every referencing column is nullable.</param>
/// <param name="BreakBy"><c>deferred</c>, <c>null-then-update</c>, or null when the edge is kept in the insert order.</param>
public sealed record CycleEdge(string Constraint, string Table, string References, bool Deferrable, bool Nullable, string? BreakBy);

/// <summary>Tables that reference each other in a circle; restore must break one of the edges.</summary>
/// <param name="Tables">The tables on the cycle, <c>schema.table</c>.</param>
/// <param name="Edges">The foreign keys among them.</param>
/// <param name="Breakable">False when every edge is NOT NULL and not deferrable, so no restore order can satisfy it.</param>
public sealed record ScopeCycle(IReadOnlyList<string> Tables, IReadOnlyList<CycleEdge> Edges, bool Breakable);

/// <summary>A foreign key from a scoped table into a table that is not backed up (e.g. <c>countries</c>).</summary>
public sealed record SharedReference(
    string Table, string Constraint, IReadOnlyList<string> Columns, string References, IReadOnlyList<string> ReferencesColumns);

/// <summary>The tenant's tables in insert order (parents first), with the cycles and shared references among them.</summary>
public sealed record TenantScope(
    string TenantColumn,
    string TenantType,
    ScopedTable? Root,
    IReadOnlyList<ScopedTable> Tables,
    IReadOnlyList<ScopeCycle> Cycles,
    IReadOnlyList<SharedReference> SharedReferences);
