namespace TenantBackup.Engine.Catalog;

/// <summary>
/// Orders tables parents first over the foreign keys between them, and finds the cycles that no order satisfies.
/// A cycle is broken at its deferrable edges first, then at edges whose columns are all nullable (insert NULL,
/// update afterwards); a cycle left after that cannot be restored and is reported as not breakable.
/// </summary>
internal static class ForeignKeyOrder
{
    private sealed record Edge(CatalogTable Child, CatalogTable Parent, CatalogForeignKey Key)
    {
        public bool Nullable => Key.Columns.All(c => !Child.Column(c).NotNull);
    }

    public static (IReadOnlyList<CatalogTable> Order, IReadOnlyList<ScopeCycle> Cycles) Sort(IReadOnlyList<CatalogTable> tables)
    {
        var byName = tables.ToDictionary(t => t.QualifiedName, StringComparer.Ordinal);
        var edges = tables
            .SelectMany(t => t.ForeignKeys
                .Where(fk => byName.ContainsKey(fk.ReferencesQualifiedName)
                    && !string.Equals(fk.ReferencesQualifiedName, t.QualifiedName, StringComparison.Ordinal))
                .Select(fk => new Edge(t, byName[fk.ReferencesQualifiedName], fk)))
            .ToList();

        var cycles = new List<ScopeCycle>();
        var broken = new HashSet<Edge>();
        foreach (var component in StronglyConnected(tables, edges).Where(c => c.Count > 1))
        {
            var members = component.Select(t => t.QualifiedName).ToHashSet(StringComparer.Ordinal);
            var inner = edges.Where(e => members.Contains(e.Child.QualifiedName) && members.Contains(e.Parent.QualifiedName)).ToList();
            var breakBy = new Dictionary<Edge, string>();

            // Prefer deferring a constraint over rewriting rows; stop as soon as the rest is acyclic.
            var candidates = inner.Where(e => e.Key.Deferrable).Concat(inner.Where(e => !e.Key.Deferrable && e.Nullable));
            foreach (var edge in candidates)
            {
                if (IsAcyclic(component, inner.Except(breakBy.Keys)))
                {
                    break;
                }

                breakBy[edge] = edge.Key.Deferrable ? "deferred" : "null-then-update";
            }

            var breakable = IsAcyclic(component, inner.Except(breakBy.Keys));
            broken.UnionWith(breakBy.Keys);
            if (!breakable)
            {
                // Still emit an order; the restore refuses such a cycle by name.
                broken.UnionWith(inner);
            }

            cycles.Add(new ScopeCycle(
                component.Select(t => t.QualifiedName).Order(StringComparer.Ordinal).ToList(),
                inner.Select(e => new CycleEdge(
                    e.Key.Name,
                    e.Child.QualifiedName,
                    e.Parent.QualifiedName,
                    e.Key.Deferrable,
                    e.Nullable,
                    breakBy.TryGetValue(e, out var how) ? how : null)).ToList(),
                breakable));
        }

        return (TopologicalOrder(tables, edges.Except(broken).ToList()), cycles);
    }

    /// <summary>Kahn's algorithm, taking ready tables in name order so the same schema always gives the same order.</summary>
    private static List<CatalogTable> TopologicalOrder(IReadOnlyList<CatalogTable> tables, List<Edge> edges)
    {
        var parents = tables.ToDictionary(
            t => t.QualifiedName,
            t => edges.Where(e => e.Child == t).Select(e => e.Parent.QualifiedName).ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
        var ready = new SortedSet<string>(parents.Where(p => p.Value.Count == 0).Select(p => p.Key), StringComparer.Ordinal);
        var byName = tables.ToDictionary(t => t.QualifiedName, StringComparer.Ordinal);
        var order = new List<CatalogTable>();
        while (ready.Count > 0)
        {
            var next = ready.Min!;
            ready.Remove(next);
            order.Add(byName[next]);
            foreach (var (child, pending) in parents)
            {
                if (pending.Remove(next) && pending.Count == 0)
                {
                    ready.Add(child);
                }
            }
        }

        return order;
    }

    private static bool IsAcyclic(IReadOnlyList<CatalogTable> tables, IEnumerable<Edge> edges) =>
        TopologicalOrder(tables, edges.ToList()).Count == tables.Count;

    /// <summary>Tarjan's strongly connected components (recursion depth = longest FK chain, which stays small).</summary>
    private static List<List<CatalogTable>> StronglyConnected(IReadOnlyList<CatalogTable> tables, List<Edge> edges)
    {
        var index = new Dictionary<CatalogTable, int>();
        var low = new Dictionary<CatalogTable, int>();
        var stack = new Stack<CatalogTable>();
        var onStack = new HashSet<CatalogTable>();
        var result = new List<List<CatalogTable>>();
        var counter = 0;

        void Visit(CatalogTable table)
        {
            index[table] = low[table] = counter++;
            stack.Push(table);
            onStack.Add(table);
            foreach (var edge in edges.Where(e => e.Child == table))
            {
                if (!index.ContainsKey(edge.Parent))
                {
                    Visit(edge.Parent);
                    low[table] = Math.Min(low[table], low[edge.Parent]);
                }
                else if (onStack.Contains(edge.Parent))
                {
                    low[table] = Math.Min(low[table], index[edge.Parent]);
                }
            }

            if (low[table] == index[table])
            {
                var component = new List<CatalogTable>();
                CatalogTable member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != table);
                result.Add(component);
            }
        }

        foreach (var table in tables.Where(t => !index.ContainsKey(t)))
        {
            Visit(table);
        }

        return result;
    }
}
