namespace TenantBackup.Engine.Archive;

/// <summary>What <c>ArchiveWriter.WriteTableDataAsync</c> wrote for one table.</summary>
/// <param name="Schema">The table's schema.</param>
/// <param name="Table">The table's name.</param>
/// <param name="Rows">Rows written.</param>
/// <param name="Bytes">Bytes of COPY text written (UTF-8, uncompressed).</param>
/// <param name="Entries">Names of the table's chunk entries, in order.</param>
internal sealed record TableData(string Schema, string Table, long Rows, long Bytes, IReadOnlyList<string> Entries);

/// <summary>A completed archive.</summary>
/// <param name="Sha256">SHA-256 of the whole archive file, lowercase hex.</param>
/// <param name="CompressedSize">Size of the archive file in bytes.</param>
/// <param name="Manifest">The manifest written as its last entry.</param>
/// <param name="KeyId">The key id of an encrypted archive; null when it is not encrypted.</param>
internal sealed record ArchiveSummary(string Sha256, long CompressedSize, ArchiveManifest Manifest, string? KeyId = null);
