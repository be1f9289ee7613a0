using System.Text.Json.Serialization;

namespace TenantBackup.Engine.Archive;

/// <summary>The content of <c>manifest.json</c>, the archive's last entry: what every other entry must contain.</summary>
public sealed class ArchiveManifest
{
    /// <summary>Always <see cref="ArchiveLayout.FormatId"/>.</summary>
    public required string Format { get; init; }

    /// <summary>The backup's id, as in <c>tenantbackup.json</c>.</summary>
    public required string BackupId { get; init; }

    /// <summary>Every entry before the manifest, in archive order.</summary>
    public required IReadOnlyList<ManifestEntry> Entries { get; init; }

    /// <summary>Sums over <see cref="Entries"/>.</summary>
    public required ManifestTotals Totals { get; init; }

    /// <summary>When the archive was completed (UTC).</summary>
    public required DateTimeOffset CompletedAt { get; init; }
}

/// <summary>One archive entry as the manifest records it.</summary>
public sealed class ManifestEntry
{
    /// <summary>The entry's name in the tar stream.</summary>
    public required string Name { get; init; }

    /// <summary>Its size in bytes (uncompressed).</summary>
    public required long Size { get; init; }

    /// <summary>SHA-256 of its content, lowercase hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary>For a data chunk: the table, as <c>schema.table</c> (unquoted, as in the catalog).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Table { get; init; }

    /// <summary>For a data chunk: the rows it holds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Rows { get; init; }
}

/// <summary>Totals over the manifest's entries.</summary>
public sealed class ManifestTotals
{
    /// <summary>Number of entries, the manifest not included.</summary>
    public required int Entries { get; init; }

    /// <summary>Number of tables with data entries.</summary>
    public required int Tables { get; init; }

    /// <summary>Rows over all data entries.</summary>
    public required long Rows { get; init; }

    /// <summary>Uncompressed bytes over all entries.</summary>
    public required long Bytes { get; init; }
}
