namespace TenantBackup.Engine.Catalog;

/// <summary>A column as the catalog describes it; <see cref="Type"/> is <c>format_type</c> output, schema-qualified.</summary>
public sealed record CatalogColumn(
    string Name,
    string Type,
    bool NotNull,
    string? Default,
    bool Generated,
    string? Identity);

/// <summary>A foreign key of a table (the table holding <see cref="Columns"/>).</summary>
public sealed record CatalogForeignKey(
    string Name,
    IReadOnlyList<string> Columns,
    string ReferencesSchema,
    string ReferencesTable,
    IReadOnlyList<string> ReferencesColumns,
    bool Deferrable,
    bool InitiallyDeferred)
{
    /// <summary>The referenced table as <c>schema.table</c>.</summary>
    public string ReferencesQualifiedName => $"{ReferencesSchema}.{ReferencesTable}";
}

/// <summary>A column backed by a sequence (serial or identity), so restores can move it past the restored values.</summary>
public sealed record CatalogSequence(string Sequence, string Column);

/// <summary>An ordinary or partitioned table (never a partition: those are read through their parent).</summary>
public sealed record CatalogTable(
    uint Oid,
    string Schema,
    string Name,
    bool Partitioned,
    IReadOnlyList<CatalogColumn> Columns,
    IReadOnlyList<string>? PrimaryKey,
    IReadOnlyList<IReadOnlyList<string>> UniqueKeys,
    IReadOnlyList<CatalogForeignKey> ForeignKeys,
    IReadOnlyList<CatalogSequence> Sequences)
{
    /// <summary>The table as <c>schema.table</c> (unquoted, for display and matching).</summary>
    public string QualifiedName => $"{Schema}.{Name}";

    /// <summary>The table as a quoted SQL identifier.</summary>
    public string SqlName => $"{Sql.Ident(Schema)}.{Sql.Ident(Name)}";

    /// <summary>True when the table has a column of that name.</summary>
    public bool HasColumn(string name) => Columns.Any(c => string.Equals(c.Name, name, StringComparison.Ordinal));

    /// <summary>The column of that name.</summary>
    public CatalogColumn Column(string name) => Columns.First(c => string.Equals(c.Name, name, StringComparison.Ordinal));
}
