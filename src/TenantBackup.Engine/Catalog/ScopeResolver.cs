using System.Text.RegularExpressions;

namespace TenantBackup.Engine.Catalog;

/// <summary>
/// Decides which tables hold a tenant's rows and how to select them (design §Tenant scope): the root row, direct
/// tables (with the tenant column), indirect tables (reaching a scoped table through foreign keys, at any depth).
/// Everything else is shared and never touched.
/// </summary>
internal static class ScopeResolver
{
    /// <summary>The transaction-local setting that carries the tenant value, so it is never spliced into SQL.</summary>
    public const string TenantSetting = "tenantbackup.tenant";

    public static TenantScope Resolve(
        IReadOnlyList<CatalogTable> tables, string tenantColumn, IReadOnlyList<string> include, IReadOnlyList<string> exclude)
    {
        var byName = tables.ToDictionary(t => t.QualifiedName, StringComparer.Ordinal);
        var direct = tables.Where(t => t.HasColumn(tenantColumn)).ToList();
        if (direct.Count == 0)
        {
            throw NoTenantColumn(tables, tenantColumn);
        }

        var root = FindRoot(direct, tenantColumn, byName);
        var scoped = new Dictionary<string, Node>(StringComparer.Ordinal);
        if (root is not null)
        {
            var keyColumn = root.Value.Key;
            scoped[root.Value.Table.QualifiedName] = new Node(root.Value.Table, ScopeKind.Root, 0, keyColumn, []);
        }

        foreach (var table in direct)
        {
            scoped[table.QualifiedName] = new Node(table, ScopeKind.Direct, 0, tenantColumn, []);
        }

        AddIndirectTables(tables, scoped);
        AddOtherPaths(scoped);

        var kept = scoped.Values.Where(n => Selected(n.Table, include, exclude)).ToList();
        CheckIncludePatterns(include, scoped.Values.Select(n => n.Table));
        var (order, cycles) = ForeignKeyOrder.Sort(kept.Select(n => n.Table).ToList());

        var scopedTables = order.Select(t => ToScopedTable(scoped[t.QualifiedName], scoped)).ToList();
        var tenantType = root is not null
            ? root.Value.Table.Column(root.Value.Key).Type
            : direct[0].Column(tenantColumn).Type;
        return new TenantScope(
            tenantColumn,
            tenantType,
            scopedTables.FirstOrDefault(t => t.Kind == ScopeKind.Root),
            scopedTables,
            cycles,
            SharedReferences(kept.Select(n => n.Table), scoped));
    }

    /// <summary>A scoped table while the scope is being built; compared by reference.</summary>
    private sealed class Node(CatalogTable table, ScopeKind kind, int depth, string? keyColumn, List<CatalogForeignKey> parentKeys)
    {
        public CatalogTable Table { get; } = table;

        public ScopeKind Kind { get; } = kind;

        public int Depth { get; } = depth;

        /// <summary>The column compared with the tenant value (root and direct tables).</summary>
        public string? KeyColumn { get; } = keyColumn;

        /// <summary>The foreign keys whose parents decide which rows are the tenant's (indirect tables).</summary>
        public List<CatalogForeignKey> ParentKeys { get; } = parentKeys;
    }

    /// <summary>The table most direct tables point their tenant column at: <c>tenants(id)</c> for <c>tenant_id</c>.</summary>
    private static (CatalogTable Table, string Key)? FindRoot(
        List<CatalogTable> direct, string tenantColumn, Dictionary<string, CatalogTable> byName)
    {
        var candidates = direct
            .SelectMany(t => t.ForeignKeys)
            .Where(fk => fk.Columns.Count == 1 && string.Equals(fk.Columns[0], tenantColumn, StringComparison.Ordinal))
            .Where(fk => byName.ContainsKey(fk.ReferencesQualifiedName)
                && !byName[fk.ReferencesQualifiedName].HasColumn(tenantColumn))
            .GroupBy(fk => (fk.ReferencesQualifiedName, Key: fk.ReferencesColumns[0]))
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key.ReferencesQualifiedName, StringComparer.Ordinal)
            .FirstOrDefault();
        return candidates is null ? null : (byName[candidates.Key.ReferencesQualifiedName], candidates.Key.Key);
    }

    /// <summary>
    /// Breadth-first from the direct tables: a table joins at depth d when it has foreign keys to tables scoped at
    /// depths below d. Only those keys select its rows, which keeps every filter finite even where tenant-less tables
    /// reference each other in a circle.
    /// </summary>
    private static void AddIndirectTables(IReadOnlyList<CatalogTable> tables, Dictionary<string, Node> scoped)
    {
        for (var depth = 1; ; depth++)
        {
            var found = new List<Node>();
            foreach (var table in tables.Where(t => !scoped.ContainsKey(t.QualifiedName)))
            {
                var parentKeys = table.ForeignKeys
                    .Where(fk => scoped.ContainsKey(fk.ReferencesQualifiedName))
                    .ToList();
                if (parentKeys.Count > 0)
                {
                    found.Add(new Node(table, ScopeKind.Indirect, depth, null, parentKeys));
                }
            }

            if (found.Count == 0)
            {
                return;
            }

            foreach (var node in found)
            {
                scoped[node.Table.QualifiedName] = node;
            }
        }
    }

    /// <summary>
    /// A row is in scope when any of its foreign key paths leads to a scoped row, so an indirect table also follows
    /// its keys to tables found at the same or a later depth, as long as that parent's filter does not lead back to
    /// the table itself (which would make the filter infinite).
    /// </summary>
    private static void AddOtherPaths(Dictionary<string, Node> scoped)
    {
        var indirect = scoped.Values
            .Where(n => n.Kind == ScopeKind.Indirect)
            .OrderBy(n => n.Depth)
            .ThenBy(n => n.Table.QualifiedName, StringComparer.Ordinal);
        foreach (var node in indirect)
        {
            var others = node.Table.ForeignKeys
                .Where(fk => scoped.ContainsKey(fk.ReferencesQualifiedName) && !node.ParentKeys.Contains(fk))
                .ToList();
            foreach (var fk in others.Where(fk => !DependsOn(scoped[fk.ReferencesQualifiedName], node, scoped)))
            {
                node.ParentKeys.Add(fk);
            }
        }
    }

    /// <summary>True when <paramref name="from"/>'s filter reaches <paramref name="target"/> through parent keys.</summary>
    private static bool DependsOn(Node from, Node target, Dictionary<string, Node> scoped)
    {
        var seen = new HashSet<Node>();
        var pending = new Stack<Node>([from]);
        while (pending.TryPop(out var current))
        {
            if (current == target)
            {
                return true;
            }

            if (seen.Add(current))
            {
                foreach (var fk in current.ParentKeys)
                {
                    pending.Push(scoped[fk.ReferencesQualifiedName]);
                }
            }
        }

        return false;
    }

    private static ScopedTable ToScopedTable(Node node, Dictionary<string, Node> scoped)
    {
        var path = new List<string> { node.Table.QualifiedName };
        for (var current = node; current.Kind == ScopeKind.Indirect;)
        {
            current = scoped[current.ParentKeys[0].ReferencesQualifiedName];
            path.Add(current.Table.QualifiedName);
        }

        return new ScopedTable(node.Table, node.Kind, node.Depth, path, Filter(node, 0, scoped));
    }

    /// <summary>The condition on alias <c>t{level}</c> that holds for the tenant's rows of the node's table.</summary>
    private static string Filter(Node node, int level, Dictionary<string, Node> scoped)
    {
        var alias = $"t{level}";
        if (node.Kind != ScopeKind.Indirect)
        {
            var column = node.Table.Column(node.KeyColumn!);
            return $"{alias}.{Sql.Ident(column.Name)} = pg_catalog.current_setting('{TenantSetting}')::{column.Type}";
        }

        var parentAlias = $"t{level + 1}";
        var paths = node.ParentKeys.Select(fk =>
        {
            var parent = scoped[fk.ReferencesQualifiedName];
            var join = string.Join(
                " AND ", fk.Columns.Zip(fk.ReferencesColumns, (c, p) => $"{parentAlias}.{Sql.Ident(p)} = {alias}.{Sql.Ident(c)}"));
            return $"EXISTS (SELECT 1 FROM {parent.Table.SqlName} {parentAlias} WHERE {join} AND {Filter(parent, level + 1, scoped)})";
        });
        return node.ParentKeys.Count == 1 ? paths.Single() : "(" + string.Join(" OR ", paths) + ")";
    }

    private static List<SharedReference> SharedReferences(IEnumerable<CatalogTable> kept, Dictionary<string, Node> scoped) =>
        kept.SelectMany(t => t.ForeignKeys
                .Where(fk => !scoped.ContainsKey(fk.ReferencesQualifiedName))
                .Select(fk => new SharedReference(t.QualifiedName, fk.Name, fk.Columns, fk.ReferencesQualifiedName, fk.ReferencesColumns)))
            .ToList();

    private static bool Selected(CatalogTable table, IReadOnlyList<string> include, IReadOnlyList<string> exclude) =>
        (include.Count == 0 || include.Any(p => Matches(p, table))) && !exclude.Any(p => Matches(p, table));

    private static void CheckIncludePatterns(IReadOnlyList<string> include, IEnumerable<CatalogTable> scoped)
    {
        var unmatched = include.Where(p => !scoped.Any(t => Matches(p, t))).ToList();
        if (unmatched.Count > 0)
        {
            throw new TenantBackupException(
                ErrorCode.ScopeError,
                $"No table of the tenant's scope matches {string.Join(", ", unmatched.Select(p => $"'{p}'"))}. " +
                "Patterns match 'table' or 'schema.table' with * and ?; shared tables are never backed up.",
                unmatched);
        }
    }

    /// <summary>PowerShell-style wildcard (<c>*</c>, <c>?</c>, case-insensitive) against <c>table</c> or <c>schema.table</c>.</summary>
    internal static bool Matches(string pattern, CatalogTable table) => Matches(pattern, table.Schema, table.Name);

    /// <summary>The same match for a table known by its schema and name.</summary>
    internal static bool Matches(string pattern, string schema, string name)
    {
        var regex = "^" + Regex.Escape(pattern)
            .Replace("\\*", ".*", StringComparison.Ordinal)
            .Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)
            || Regex.IsMatch($"{schema}.{name}", regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    private static TenantBackupException NoTenantColumn(IReadOnlyList<CatalogTable> tables, string tenantColumn)
    {
        // Columns that look like tenant keys: named like one, or the *_id columns most tables share.
        var hints = new[] { "tenant", "account", "org", "customer", "company", "workspace", "client", "site", "team" };
        var suggestions = tables
            .SelectMany(t => t.Columns.Select(c => c.Name))
            .GroupBy(n => n, StringComparer.Ordinal)
            .Where(g => g.Key.EndsWith("_id", StringComparison.OrdinalIgnoreCase)
                || hints.Any(h => g.Key.Contains(h, StringComparison.OrdinalIgnoreCase)))
            .OrderByDescending(g => hints.Any(h => g.Key.Contains(h, StringComparison.OrdinalIgnoreCase)))
            .ThenByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(5)
            .Select(g => $"{g.Key} ({g.Count()} tables)")
            .ToList();
        var hint = suggestions.Count > 0
            ? $" Columns that look like tenant keys: {string.Join(", ", suggestions)}. " +
                "Pass the right one with -TenantColumn / --tenant-column."
            : " Pass the column that holds the tenant with -TenantColumn / --tenant-column.";
        return new TenantBackupException(ErrorCode.ScopeError, $"No table has the tenant column '{tenantColumn}'.{hint}", tenantColumn);
    }
}
