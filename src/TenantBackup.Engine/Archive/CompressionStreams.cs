using System.IO.Compression;

namespace TenantBackup.Engine.Archive;

/// <summary>Opens the compression layer of an archive for writing, or detects and opens it for reading.</summary>
internal static class CompressionStreams
{
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xB5, 0x2F, 0xFD];

    private static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];

    /// <summary>
    /// A stream that compresses into <paramref name="inner"/> and owns it: disposing it ends the compressed
    /// data and disposes <paramref name="inner"/>. For <see cref="Compression.None"/> that is
    /// <paramref name="inner"/> itself.
    /// </summary>
    /// <param name="inner">Where the compressed bytes go.</param>
    /// <param name="compression">The codec.</param>
    /// <param name="level">
    /// zstd: its level (null = 3, multi-threaded). gzip has only coarse levels in .NET 8: null or 4..9 = Optimal
    /// (zlib 6, gzip's own default), up to 3 = Fastest (zlib 1), 10 and more = SmallestSize (zlib 9).
    /// </param>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.CompressionUnavailable"/> when zstd is asked for and libzstd cannot be loaded.
    /// </exception>
    public static Stream OpenWrite(Stream inner, Compression compression, int? level) => compression switch
    {
        Compression.Zstd => new ZstdCompressStream(inner, level),
        Compression.Gzip => new GZipStream(inner, GzipLevel(level), leaveOpen: false),
        Compression.None => inner,
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, null),
    };

    /// <summary>
    /// A stream of the tar data in <paramref name="inner"/>, which it owns, whatever the compression:
    /// zstd and gzip are recognised by their magic bytes, anything else is read as plain tar.
    /// </summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.CompressionUnavailable"/> for zstd data without libzstd.</exception>
    public static Stream OpenRead(Stream inner) => OpenRead(inner, out _);

    /// <inheritdoc cref="OpenRead(Stream)"/>
    /// <param name="inner">The archive's bytes.</param>
    /// <param name="compression">The compression found.</param>
    public static Stream OpenRead(Stream inner, out Compression compression)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Span<byte> head = stackalloc byte[4];
        int read = inner.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        compression = head.StartsWith(ZstdMagic) ? Compression.Zstd : head.StartsWith(GzipMagic) ? Compression.Gzip : Compression.None;
        Stream replay = new PrefixedReadStream(head, inner);
        try
        {
            return compression switch
            {
                Compression.Zstd => new ZstdDecompressStream(replay),
                Compression.Gzip => new GZipStream(replay, CompressionMode.Decompress),
                _ => replay,
            };
        }
        catch
        {
            replay.Dispose();
            throw;
        }
    }

    /// <summary>The archive file extension: <c>.tar.zst</c>, <c>.tar.gz</c> or <c>.tar</c>.</summary>
    public static string Extension(Compression compression) => compression switch
    {
        Compression.Zstd => ".tar.zst",
        Compression.Gzip => ".tar.gz",
        Compression.None => ".tar",
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, null),
    };

    /// <summary>The name used in <c>tenantbackup.json</c> and the index: <c>zstd</c>, <c>gzip</c> or <c>none</c>.</summary>
    public static string Name(Compression compression) => compression switch
    {
        Compression.Zstd => "zstd",
        Compression.Gzip => "gzip",
        Compression.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, null),
    };

    private static CompressionLevel GzipLevel(int? level) => level switch
    {
        null => CompressionLevel.Optimal,
        <= 3 => CompressionLevel.Fastest,
        <= 9 => CompressionLevel.Optimal,
        _ => CompressionLevel.SmallestSize,
    };
}
