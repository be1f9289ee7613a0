using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace TenantBackup.Tests.Infrastructure;

/// <summary>
/// Table contents as PostgreSQL's own COPY text lines, sorted ordinally, so two databases (or one database before and
/// after) compare byte for byte without any C# type mapping in between.
/// </summary>
public static class TableDump
{
    /// <summary>
    /// Every row of <paramref name="qualifiedTable"/> (optionally filtered) as its COPY text line, without the newline,
    /// sorted ordinally. Columns are <c>SELECT *</c> order, generated columns included; a partitioned table yields the
    /// rows of all its partitions.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="qualifiedTable"><c>schema.table</c>; each part bare (<c>billing.Payment Methods</c>) or
    /// double-quoted (<c>billing."Payment Methods"</c>); no schema means <c>public</c>.</param>
    /// <param name="whereSql">A condition spliced in after <c>WHERE</c>, e.g. <see cref="TestSchema.TenantWhere"/>.</param>
    public static async Task<IReadOnlyList<string>> RowsAsync(NpgsqlConnection connection, string qualifiedTable, string? whereSql = null)
    {
        var (schema, table) = ParseName(qualifiedTable);
        return await ReadRowsAsync(connection, schema, table, whereSql);
    }

    // Not a public overload of RowsAsync: (connection, "public", "customers") would bind to the (table, where) one.
    private static async Task<IReadOnlyList<string>> ReadRowsAsync(
        NpgsqlConnection connection, string schema, string table, string? whereSql)
    {
        var sql = $"COPY (SELECT * FROM {QuoteIdentifier(schema)}.{QuoteIdentifier(table)}" +
            (string.IsNullOrWhiteSpace(whereSql) ? "" : $" WHERE {whereSql}") + ") TO STDOUT";
        var rows = new List<string>();
        using (var reader = await connection.BeginTextExportAsync(sql))
        {
            // COPY text escapes \n and \r inside values, so a line is exactly one row.
            while (await reader.ReadLineAsync() is { } line)
            {
                rows.Add(line);
            }
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>
    /// The rows of every user table (all schemas but the system ones; partitions on their own, parents not again;
    /// no views, materialized views, temp or extension-owned tables), keyed <c>schema.table</c> in ordinal order.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> SnapshotAsync(NpgsqlConnection connection)
    {
        var tables = new List<(string Schema, string Table)>();
        await using (var command = new NpgsqlCommand(UserTablesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var snapshot = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (schema, table) in tables)
        {
            snapshot[$"{schema}.{table}"] = await ReadRowsAsync(connection, schema, table, whereSql: null);
        }

        return snapshot;
    }

    /// <summary>
    /// A SHA-256 (hex) over the names and rows of every user table, as <see cref="SnapshotAsync"/> sees them, for
    /// "nothing changed" assertions. Sequences are left out on purpose: a rolled-back transaction still advances them.
    /// </summary>
    public static async Task<string> FingerprintAsync(NpgsqlConnection connection) => Fingerprint(await SnapshotAsync(connection));

    /// <summary>The fingerprint of a snapshot taken earlier.</summary>
    public static string Fingerprint(IReadOnlyDictionary<string, IReadOnlyList<string>> snapshot)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (table, rows) in snapshot.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            // Table name and row count frame the rows, so rows cannot shift from one table to the next unnoticed.
            hash.AppendData(Encoding.UTF8.GetBytes($"table {table} {rows.Count}\n"));
            foreach (var row in rows)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(row));
                hash.AppendData("\n"u8);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// A readable account of how two snapshots differ (tables added or removed, rows only in one side, at most
    /// <paramref name="maxRowsPerTable"/> shown per table), or an empty string when they are equal. For assertion messages.
    /// </summary>
    public static string DescribeDifferences(
        IReadOnlyDictionary<string, IReadOnlyList<string>> before,
        IReadOnlyDictionary<string, IReadOnlyList<string>> after,
        int maxRowsPerTable = 5)
    {
        var report = new StringBuilder();
        foreach (var table in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            if (!after.TryGetValue(table, out var afterRows))
            {
                report.AppendLine($"{table}: table gone");
                continue;
            }

            if (!before.TryGetValue(table, out var beforeRows))
            {
                report.AppendLine($"{table}: new table ({afterRows.Count} rows)");
                continue;
            }

            var removed = MultisetExcept(beforeRows, afterRows);
            var added = MultisetExcept(afterRows, beforeRows);
            if (removed.Count == 0 && added.Count == 0)
            {
                continue;
            }

            report.AppendLine($"{table}: {beforeRows.Count} -> {afterRows.Count} rows, {removed.Count} removed, {added.Count} added");
            foreach (var row in removed.Take(maxRowsPerTable))
            {
                report.AppendLine($"  - {row}");
            }

            foreach (var row in added.Take(maxRowsPerTable))
            {
                report.AppendLine($"  + {row}");
            }
        }

        return report.ToString();
    }

    /// <summary>Quotes an identifier for SQL, always (e.g. <c>Payment Methods</c> → <c>"Payment Methods"</c>).</summary>
    public static string QuoteIdentifier(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Quotes a <c>schema.table</c> name as accepted by <see cref="RowsAsync(NpgsqlConnection, string, string?)"/>.</summary>
    public static string QuoteName(string qualifiedTable)
    {
        var (schema, table) = ParseName(qualifiedTable);
        return $"{QuoteIdentifier(schema)}.{QuoteIdentifier(table)}";
    }

    /// <summary>Splits <c>schema.table</c> into its parts; each part bare or double-quoted, no schema meaning <c>public</c>.</summary>
    public static (string Schema, string Table) ParseName(string qualifiedTable)
    {
        var parts = new List<string>();
        var position = 0;
        while (true)
        {
            parts.Add(ReadIdentifier(qualifiedTable, ref position));
            if (position == qualifiedTable.Length)
            {
                break;
            }

            // Skip the dot between schema and table; quote a name that itself contains a dot.
            position++;
            if (parts.Count == 2)
            {
                throw new ArgumentException($"'{qualifiedTable}' has more than two name parts.", nameof(qualifiedTable));
            }
        }

        return parts.Count == 1 ? ("public", parts[0]) : (parts[0], parts[1]);
    }

    private static string ReadIdentifier(string text, ref int position)
    {
        if (position < text.Length && text[position] == '"')
        {
            var value = new StringBuilder();
            position++;
            while (true)
            {
                if (position >= text.Length)
                {
                    throw new ArgumentException($"Unterminated quoted identifier in '{text}'.", nameof(text));
                }

                if (text[position] == '"')
                {
                    if (position + 1 < text.Length && text[position + 1] == '"')
                    {
                        value.Append('"');
                        position += 2;
                        continue;
                    }

                    position++;
                    break;
                }

                value.Append(text[position++]);
            }

            if (position < text.Length && text[position] != '.')
            {
                throw new ArgumentException($"Unexpected text after a quoted identifier in '{text}'.", nameof(text));
            }

            return value.ToString();
        }

        // A bare schema ends at the first dot; the bare table is whatever follows.
        var end = text.IndexOf('.', position);
        var start = position;
        position = end < 0 ? text.Length : end;
        var name = text[start..position];
        if (name.Length == 0)
        {
            throw new ArgumentException($"Empty name part in '{text}'.", nameof(text));
        }

        return name;
    }

    private static List<string> MultisetExcept(IReadOnlyList<string> rows, IReadOnlyList<string> others)
    {
        var remaining = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in others)
        {
            remaining[row] = remaining.GetValueOrDefault(row) + 1;
        }

        var result = new List<string>();
        foreach (var row in rows)
        {
            if (remaining.TryGetValue(row, out var count) && count > 0)
            {
                remaining[row] = count - 1;
            }
            else
            {
                result.Add(row);
            }
        }

        return result;
    }

    private const string UserTablesSql = """
        SELECT n.nspname, c.relname
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
          AND n.nspname <> 'information_schema'
          AND n.nspname NOT LIKE 'pg\_%'
          AND NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """;
}
