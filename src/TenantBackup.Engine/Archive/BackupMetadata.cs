using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Archive;

/// <summary><c>tenantbackup.json</c>, the archive's first entry: what this backup is, so the archive describes itself.</summary>
internal sealed class BackupMetadata
{
    public string Format { get; set; } = ArchiveLayout.FormatId;

    public string Id { get; set; } = "";

    public string Kind { get; set; } = BackupKinds.Full;

    public string? ParentId { get; set; }

    public TenantInfo Tenant { get; set; } = new();

    public BackupSource Source { get; set; } = new();

    public SnapshotInfo Snapshot { get; set; } = new();

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public string ToolVersion { get; set; } = "";

    public string Compression { get; set; } = "";

    public string? Message { get; set; }

    /// <summary>Folders added with <c>-IncludePath</c> and the archive prefix each went under.</summary>
    public List<FileRoot> Files { get; set; } = [];

    internal sealed class TenantInfo
    {
        public string Column { get; set; } = "";

        public string Value { get; set; } = "";

        public string Type { get; set; } = "";
    }

    internal sealed class SnapshotInfo
    {
        /// <summary><c>pg_current_snapshot()</c> of the export transaction.</summary>
        public string? Snapshot { get; set; }

        /// <summary>WAL position when the snapshot was taken.</summary>
        public string? Lsn { get; set; }
    }

    internal sealed class FileRoot
    {
        public string Source { get; set; } = "";

        public string Entry { get; set; } = "";
    }
}
