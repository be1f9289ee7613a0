using System.Security.Cryptography;
using System.Text.Json;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Archive;

/// <summary><c>schema.json</c>: the scoped tables as they were at backup time, for restore's schema comparison and remapping.</summary>
internal sealed class SchemaDocument
{
    public string TenantColumn { get; set; } = "";

    public string TenantType { get; set; } = "";

    public string? RootTable { get; set; }

    public List<SchemaTable> Tables { get; set; } = [];

    public List<SharedReference> SharedReferences { get; set; } = [];

    public List<ScopeCycle> Cycles { get; set; } = [];

    /// <summary>SHA-256 over the tables' columns, types and keys: equal fingerprints mean restore needs no schema comparison.</summary>
    public string Fingerprint { get; set; } = "";

    internal sealed class SchemaTable
    {
        /// <summary>Position in insert order (parents first); also the <c>NNNN</c> of the table's data entries.</summary>
        public int Ordinal { get; set; }

        public string Schema { get; set; } = "";

        public string Name { get; set; } = "";

        public ScopeKind Scope { get; set; }

        public int Depth { get; set; }

        public List<string> Path { get; set; } = [];

        public bool Partitioned { get; set; }

        public List<CatalogColumn> Columns { get; set; } = [];

        /// <summary>The columns of the data entries, in order: all but generated columns.</summary>
        public List<string> DataColumns { get; set; } = [];

        public List<string>? PrimaryKey { get; set; }

        public List<List<string>> UniqueKeys { get; set; } = [];

        public List<CatalogForeignKey> ForeignKeys { get; set; } = [];

        public List<CatalogSequence> Sequences { get; set; } = [];

        /// <summary>The condition that selected the rows (alias <c>t0</c>), for the record.</summary>
        public string Filter { get; set; } = "";
    }

    public static SchemaDocument From(TenantScope scope)
    {
        var document = new SchemaDocument
        {
            TenantColumn = scope.TenantColumn,
            TenantType = scope.TenantType,
            RootTable = scope.Root?.Table.QualifiedName,
            Tables = scope.Tables.Select((t, i) => new SchemaTable
            {
                Ordinal = i + 1,
                Schema = t.Table.Schema,
                Name = t.Table.Name,
                Scope = t.Kind,
                Depth = t.Depth,
                Path = t.Path.ToList(),
                Partitioned = t.Table.Partitioned,
                Columns = t.Table.Columns.ToList(),
                DataColumns = t.ExportColumns.ToList(),
                PrimaryKey = t.Table.PrimaryKey?.ToList(),
                UniqueKeys = t.Table.UniqueKeys.Select(k => k.ToList()).ToList(),
                ForeignKeys = t.Table.ForeignKeys.ToList(),
                Sequences = t.Table.Sequences.ToList(),
                Filter = t.FilterSql,
            }).ToList(),
            SharedReferences = scope.SharedReferences.ToList(),
            Cycles = scope.Cycles.ToList(),
        };
        document.Fingerprint = ComputeFingerprint(document.Tables);
        return document;
    }

    /// <summary>Hashes only what decides whether rows fit: names, column types, nullability, generation, keys.</summary>
    public static string ComputeFingerprint(IEnumerable<SchemaTable> tables)
    {
        var canonical = tables
            .OrderBy(t => t.Schema, StringComparer.Ordinal)
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => new
            {
                t.Schema,
                t.Name,
                Columns = t.Columns.Select(c => new { c.Name, c.Type, c.NotNull, c.Generated, c.Identity }),
                t.PrimaryKey,
                ForeignKeys = t.ForeignKeys
                    .OrderBy(f => f.Name, StringComparer.Ordinal)
                    .Select(f => new { f.Columns, f.ReferencesSchema, f.ReferencesTable, f.ReferencesColumns }),
            });
        var bytes = JsonSerializer.SerializeToUtf8Bytes(canonical, Json.Options);
        return Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }
}
