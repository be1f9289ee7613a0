using Npgsql;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Catalog;

namespace TenantBackup.Engine.Restore;

/// <summary>Compares the archive's tables with the target's catalog.</summary>
internal static class SchemaComparer
{
    public static Task<IReadOnlyList<SchemaDifference>> CompareAsync(
        NpgsqlConnection connection,
        IReadOnlyList<SchemaDocument.SchemaTable> archiveTables,
        IReadOnlyList<CatalogTable> targetTables,
        CancellationToken cancellationToken)
    {
        _ = connection;
        cancellationToken.ThrowIfCancellationRequested();
        var differences = new List<SchemaDifference>();
        foreach (var table in archiveTables)
        {
            var name = $"{table.Schema}.{table.Name}";
            var target = targetTables.FirstOrDefault(t => string.Equals(t.QualifiedName, name, StringComparison.Ordinal));
            if (target is null)
            {
                differences.Add(new SchemaDifference { Table = name, Kind = "missing-table", Blocking = true, Message = $"{name} is missing in the target." });
                continue;
            }

            foreach (var column in table.DataColumns.Where(c => !target.HasColumn(c)))
            {
                differences.Add(new SchemaDifference
                {
                    Table = name, Column = column, Kind = "missing-column", Blocking = true, Message = $"{name}.{column} is missing in the target.",
                });
            }
        }

        return Task.FromResult<IReadOnlyList<SchemaDifference>>(differences);
    }

    public static string Describe(IReadOnlyList<SchemaDifference> differences) =>
        $"The target's schema differs from the backup's in {differences.Count(d => d.Blocking)} way(s) the restore cannot bridge: " +
        string.Join(" ", differences.Where(d => d.Blocking).Select(d => d.Message)) + " Nothing was changed.";
}
