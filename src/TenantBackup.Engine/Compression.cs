namespace TenantBackup.Engine;

/// <summary>How an archive's tar stream is compressed.</summary>
public enum Compression
{
    /// <summary>zstd through the system libzstd, multi-threaded (<c>.tar.zst</c>).</summary>
    Zstd,

    /// <summary>gzip (<c>.tar.gz</c>).</summary>
    Gzip,

    /// <summary>Plain tar (<c>.tar</c>).</summary>
    None,
}
