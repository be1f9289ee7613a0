using Npgsql;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Catalog;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// Compares the archive's tables (<c>schema.json</c>) with the target database before any change (design §Restore
/// step 3). Every difference is collected, not just the first, so one refused restore tells the operator everything
/// there is to fix. Tables and columns are matched by exact name.
/// </summary>
internal static class SchemaComparer
{
    /// <summary>Compares the archive's tables (schema.json) with the target database's catalog and returns every difference.</summary>
    public static async Task<IReadOnlyList<SchemaDifference>> CompareAsync(
        NpgsqlConnection connection,
        IReadOnlyList<SchemaDocument.SchemaTable> archiveTables,
        IReadOnlyList<CatalogTable> targetTables,
        CancellationToken cancellationToken)
    {
        var targets = targetTables.ToDictionary(t => (t.Schema, t.Name));
        var differences = new List<SchemaDifference>();
        var typeChanges = new List<(string Table, CatalogColumn Archive, CatalogColumn Target)>();
        foreach (var archive in archiveTables)
        {
            var name = $"{archive.Schema}.{archive.Name}";
            if (!targets.TryGetValue((archive.Schema, archive.Name), out var target))
            {
                differences.Add(MissingTable(name));
                continue;
            }

            CompareKeys(name, archive, target, differences);
            CompareArchiveColumns(name, archive, target, differences, typeChanges);
            CompareTargetColumns(name, archive, target, differences);
        }

        var verdicts = await TypeConversion.JudgeAsync(
            connection, typeChanges.Select(c => (c.Archive.Type, c.Target.Type)), cancellationToken).ConfigureAwait(false);
        differences.AddRange(typeChanges.Select(c => TypeChanged(c.Table, c.Archive, c.Target, verdicts[(c.Archive.Type, c.Target.Type)])));

        // Table-level differences first, then columns by name; OrderBy is stable, so one column's kinds keep their order.
        return differences
            .OrderBy(d => d.Table, StringComparer.Ordinal)
            .ThenBy(d => d.Column is not null)
            .ThenBy(d => d.Column, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The message of the <see cref="ErrorCode.SchemaMismatch"/> error: every blocking difference, in one text.</summary>
    public static string Describe(IReadOnlyList<SchemaDifference> differences)
    {
        var blocking = differences.Where(d => d.Blocking).Select(d => d.Message.TrimEnd('.')).ToList();
        return blocking.Count == 0
            ? "The target's schema has no difference from the backup's that the restore cannot bridge."
            : $"The target's schema differs from the backup's in {blocking.Count} way(s) the restore cannot bridge: " +
              $"{string.Join("; ", blocking)}; nothing was changed.";
    }

    private static void CompareArchiveColumns(
        string table,
        SchemaDocument.SchemaTable archive,
        CatalogTable target,
        List<SchemaDifference> differences,
        List<(string, CatalogColumn, CatalogColumn)> typeChanges)
    {
        foreach (var columnName in archive.DataColumns)
        {
            var column = archive.Columns.First(c => string.Equals(c.Name, columnName, StringComparison.Ordinal));
            if (!target.HasColumn(columnName))
            {
                differences.Add(MissingColumn(table, column));
                continue;
            }

            var targetColumn = target.Column(columnName);
            if (targetColumn.Generated)
            {
                // Its type and nullability do not matter: no value can be written to it at all.
                differences.Add(GeneratedInTarget(table, column, targetColumn));
                continue;
            }

            if (!string.Equals(column.Type, targetColumn.Type, StringComparison.Ordinal))
            {
                typeChanges.Add((table, column, targetColumn));
            }

            if (!column.NotNull && targetColumn.NotNull)
            {
                differences.Add(NowNotNull(table, column));
            }
        }
    }

    private static void CompareTargetColumns(
        string table, SchemaDocument.SchemaTable archive, CatalogTable target, List<SchemaDifference> differences)
    {
        foreach (var column in target.Columns.Where(c => !archive.DataColumns.Contains(c.Name, StringComparer.Ordinal)))
        {
            var before = archive.Columns.FirstOrDefault(c => string.Equals(c.Name, column.Name, StringComparison.Ordinal));
            if (column.NotNull && column.Default is null && column.Identity is null && !column.Generated)
            {
                differences.Add(NewNotNullColumn(table, column));
            }
            else if (before is null || (before.Generated && !column.Generated))
            {
                differences.Add(NewColumn(table, column, before));
            }
        }
    }

    private static void CompareKeys(
        string table, SchemaDocument.SchemaTable archive, CatalogTable target, List<SchemaDifference> differences)
    {
        // The key's column order changes its index, not which rows match: compare the sets.
        var before = archive.PrimaryKey ?? [];
        var after = target.PrimaryKey ?? [];
        if (!before.ToHashSet(StringComparer.Ordinal).SetEquals(after))
        {
            differences.Add(KeyChanged(table, archive.PrimaryKey, target.PrimaryKey));
        }
    }

    private static SchemaDifference MissingTable(string table) => new()
    {
        Table = table,
        Kind = "missing-table",
        Blocking = true,
        Message = $"{table} is in the backup but not in the target database: create the table, " +
                  "leave it out of the restore, or restore into a database with the backup's schema.",
    };

    private static SchemaDifference MissingColumn(string table, CatalogColumn column) => new()
    {
        Table = table,
        Column = column.Name,
        Kind = "missing-column",
        Archive = column.Type,
        Blocking = true,
        Message = $"Column {column.Name} of {table} is in the backup but not in the target: " +
                  "add the column back or restore into a database with the backup's schema.",
    };

    private static SchemaDifference GeneratedInTarget(string table, CatalogColumn column, CatalogColumn targetColumn) => new()
    {
        Table = table,
        Column = column.Name,
        Kind = "generated-in-target",
        Archive = column.Type,
        Target = $"generated always as ({targetColumn.Default})",
        Blocking = true,
        Message = $"Column {column.Name} of {table} holds data in the backup but is a generated column in the target, " +
                  "which takes no values: make it a plain column again or restore into a database with the backup's schema.",
    };

    private static SchemaDifference TypeChanged(
        string table, CatalogColumn column, CatalogColumn targetColumn, TypeConversion.Verdict verdict) => new()
    {
        Table = table,
        Column = column.Name,
        Kind = "type-changed",
        Archive = column.Type,
        Target = targetColumn.Type,
        Blocking = !verdict.Safe,
        Message = verdict.Safe
            ? $"Column {column.Name} of {table} is {column.Type} in the backup and {targetColumn.Type} in the target; " +
              $"{verdict.Reason}, so its rows restore as they are."
            : $"Column {column.Name} of {table} is {column.Type} in the backup but {targetColumn.Type} in the target, " +
              $"and {verdict.Reason}: " +
              $"change the column back to {column.Type} or restore into a database with the backup's schema.",
    };

    private static SchemaDifference NewNotNullColumn(string table, CatalogColumn column) => new()
    {
        Table = table,
        Column = column.Name,
        Kind = "new-not-null-column",
        Target = $"{column.Type} not null",
        Blocking = true,
        Message = $"Column {column.Name} of {table} is NOT NULL without a default in the target and not in the backup, " +
                  "so restored rows would have no value for it: give it a default, allow NULL, " +
                  "or restore into a database with the backup's schema.",
    };

    private static SchemaDifference NowNotNull(string table, CatalogColumn column) => new()
    {
        Table = table,
        Column = column.Name,
        Kind = "now-not-null",
        Archive = "null",
        Target = "not null",
        Blocking = false,
        Message = $"Column {column.Name} of {table} allowed NULL in the backup but is NOT NULL in the target: " +
                  "a backed-up row with NULL there will stop the restore, naming the row's table; allow NULL again to be sure.",
    };

    private static SchemaDifference NewColumn(string table, CatalogColumn column, CatalogColumn? before) => new()
    {
        Table = table,
        Column = column.Name,
        Kind = "new-column",
        Archive = before is null ? null : $"generated always as ({before.Default})",
        Target = column.Type,
        Blocking = false,
        Message = before is null
            ? $"Column {column.Name} of {table} is in the target but not in the backup: restored rows get {Filled(column)}."
            : $"Column {column.Name} of {table} was generated in the backup and is a plain column in the target: " +
              $"restored rows get {Filled(column)}.",
    };

    private static string Filled(CatalogColumn column) =>
        column.Generated ? "its generated value"
        : column.Identity is not null || column.Default is not null ? "its default"
        : "NULL in it";

    private static SchemaDifference KeyChanged(string table, IReadOnlyList<string>? archive, IReadOnlyList<string>? target) => new()
    {
        Table = table,
        Kind = "key-changed",
        Archive = KeyText(archive),
        Target = KeyText(target),
        Blocking = false,
        Message = (archive, target) switch
        {
            (_, null) => $"The primary key of {table} is {KeyText(archive)} in the backup but the target has none: " +
                         "Merge refuses a table without one, Replace restores it as it is.",
            (null, _) => $"{table} had no primary key in the backup but has {KeyText(target)} in the target: " +
                         "Merge and Append match rows by it.",
            _ => $"The primary key of {table} is {KeyText(archive)} in the backup but {KeyText(target)} in the target: " +
                 "Merge and Append match rows by the target's key.",
        },
    };

    private static string? KeyText(IReadOnlyList<string>? key) => key is null ? null : $"({string.Join(", ", key)})";
}
