namespace TenantBackup.Engine.Archive;

/// <summary>
/// What a <c>schema.json</c> must hold before a restore compares it with a database: a forged or damaged one that passes
/// the manifest (a forger can rewrite that too) must be refused as corrupt, not crash the comparison or reach the server
/// as a type name it cannot parse.
/// </summary>
internal static class SchemaDocumentChecks
{
    /// <summary>The first inconsistency of <paramref name="schema"/>, or null when it has none.</summary>
    public static string? FirstProblem(SchemaDocument schema)
    {
        var tables = new HashSet<(string, string)>();
        foreach (var table in schema.Tables)
        {
            string name = $"{table.Schema}.{table.Name}";
            if (!tables.Add((table.Schema, table.Name)))
            {
                return $"it lists table {name} twice";
            }

            var columns = table.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var keyed = table.DataColumns.Concat(table.PrimaryKey ?? []).Concat(table.UniqueKeys.SelectMany(k => k))
                .Concat(table.ForeignKeys.SelectMany(f => f.Columns));
            if (keyed.FirstOrDefault(c => !columns.Contains(c)) is { } unknown)
            {
                return $"table {name} names a column '{unknown}' that its column list does not describe";
            }

            if (table.Columns.FirstOrDefault(c => !IsTypeName(c.Type)) is { } column)
            {
                return $"column {column.Name} of {name} has the type '{column.Type}', which is not a type name";
            }
        }

        return null;
    }

    // format_type's output: names (quoted ones may hold anything), modifiers in parentheses, array brackets. Never a
    // statement separator or a comment outside quotes, and parentheses always balance.
    private static bool IsTypeName(string? type)
    {
        if (string.IsNullOrWhiteSpace(type))
        {
            return false;
        }

        bool quoted = false;
        int depth = 0;
        for (int i = 0; i < type.Length; i++)
        {
            char c = type[i];
            char next = i + 1 < type.Length ? type[i + 1] : '\0';
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && (c == ';' || (c == '-' && next == '-') || (c == '/' && next == '*') || char.IsControl(c)))
            {
                return false;
            }
            else if (!quoted && (c == '(' || c == ')'))
            {
                depth += c == '(' ? 1 : -1;
                if (depth < 0)
                {
                    return false;
                }
            }
        }

        return !quoted && depth == 0;
    }
}
