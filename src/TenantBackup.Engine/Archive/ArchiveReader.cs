using System.Formats.Tar;
using System.Text.Json;
using TenantBackup.Engine.Archive.Encryption;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Reads an archive's entries in order, whatever its compression. Only regular files with safe relative names
/// are accepted; anything else, and any tar or decompression failure, is an <see cref="ErrorCode.ArchiveCorrupt"/>
/// error that names the archive and says what is wrong.
/// </summary>
internal sealed class ArchiveReader : IAsyncDisposable
{
    private readonly string _archiveName;
    private readonly Stream _tarStream;
    private readonly Stream? _decrypted;
    private readonly TarReader _tar;
    private ArchiveEntryStream? _current;

    private ArchiveReader(string archiveName, Stream tarStream, Compression compression, Stream? decrypted, string? keyId)
    {
        _archiveName = archiveName;
        _tarStream = tarStream;
        _decrypted = decrypted;
        _tar = new TarReader(new TarMetadataGuard(tarStream), leaveOpen: true);
        Compression = compression;
        KeyId = keyId;
    }

    /// <summary>The compression found by the archive's magic bytes.</summary>
    public Compression Compression { get; }

    /// <summary>The key id of an encrypted archive (decrypted on the way); null when it is not encrypted.</summary>
    public string? KeyId { get; }

    /// <summary>Opens the archive in <paramref name="input"/>, which the reader owns from then on.</summary>
    /// <param name="input">The archive's bytes, from the start.</param>
    /// <param name="archiveName">How messages name the archive; by default the file's path, when it is a file.</param>
    /// <param name="key">The key of an encrypted archive; an unencrypted one is read without it.</param>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.CompressionUnavailable"/> for a zstd archive without libzstd; <see cref="ErrorCode.DecryptionFailed"/>
    /// for an encrypted archive without its key; <see cref="ErrorCode.ArchiveCorrupt"/> for a damaged encryption header.
    /// </exception>
    public static ArchiveReader Open(Stream input, string? archiveName = null, EncryptionKey? key = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        string name = archiveName ?? (input as FileStream)?.Name ?? "the archive";
        Stream tarStream;
        Compression compression;
        EnvelopeHeader? header;
        Stream compressed;
        try
        {
            compressed = ArchiveEncryption.OpenRead(input, key, name, out header);
            tarStream = CompressionStreams.OpenRead(compressed, out compression);
        }
        catch (IOException ex)
        {
            input.Dispose();
            throw new TenantBackupException(ErrorCode.IOError, $"Cannot read {name}: {ex.Message}", name, ex);
        }
        catch
        {
            input.Dispose();
            throw;
        }

        return new ArchiveReader(name, tarStream, compression, header is null ? null : compressed, header?.KeyId);
    }

    /// <summary>The next entry, or null after the last one. The previous entry's data stream becomes unusable.</summary>
    public async Task<ArchiveEntry?> NextEntryAsync(CancellationToken cancellationToken)
    {
        _current?.MarkStale();
        _current = null;
        TarEntry? entry;
        try
        {
            entry = await _tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsDamage(ex) || ex is InvalidOperationException)
        {
            // TarReader reports an impossible header (a size field larger than its entry can be) as an invalid operation.
            throw Damaged("its tar stream is damaged", ex);
        }

        if (entry is null)
        {
            return null;
        }

        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
        {
            throw Damaged($"entry '{entry.Name}' is a {entry.EntryType} entry; a TenantBackup archive holds regular files only");
        }

        if (!ArchiveLayout.IsSafeEntryName(entry.Name))
        {
            throw Damaged($"entry '{entry.Name}' has an unsafe name (absolute, '..', backslash or empty); it is refused");
        }

        _current = new ArchiveEntryStream(this, entry.DataStream ?? Stream.Null, entry.Name, entry.Length);
        return new ArchiveEntry(entry.Name, entry.Length, entry.ModificationTime, _current);
    }

    /// <summary>
    /// The largest JSON entry read: the parser holds a whole string token in memory, so one huge declared entry would be a
    /// huge allocation. A manifest of 100,000 chunks or a schema of 10,000 wide tables stays well below it.
    /// </summary>
    internal const long MaxJsonBytes = 128L * 1024 * 1024;

    /// <summary>
    /// Reads <paramref name="entry"/> as JSON; invalid, null or oversized JSON is an <see cref="ErrorCode.ArchiveCorrupt"/> error.
    /// </summary>
    public async Task<T> ReadJsonAsync<T>(ArchiveEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Size > MaxJsonBytes)
        {
            throw Damaged($"entry {entry.Name} declares {entry.Size} bytes, more than the {MaxJsonBytes} a JSON entry may have");
        }

        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync<T>(entry.Data, Json.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw Damaged($"entry {entry.Name} is not valid JSON ({ex.Message})", ex);
        }

        if (value is null)
        {
            throw Damaged($"entry {entry.Name} is empty JSON (null)");
        }

        return JsonNulls.FirstMissing(value) is { } missing
            ? throw Damaged($"entry {entry.Name} lacks {missing} (a member's name is damaged, or it is null)")
            : value;
    }

    /// <summary>
    /// Reads what follows the end of the tar stream, so the compressed stream is decoded (and its checksum checked)
    /// to its very end. Only zero padding may follow.
    /// </summary>
    public async Task ReadToEndAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await _tarStream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.AsSpan(0, read).ContainsAnyExcept((byte)0))
                {
                    throw Damaged("data follows the end of its tar stream");
                }
            }

            // The decompressor may stop at its own end; the chunks must still be read to the final one, or chunks
            // appended after it would go unnoticed.
            if (_decrypted is not null && await _decrypted.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
                throw Damaged("data follows the end of its compressed stream");
            }
        }
        catch (Exception ex) when (IsDamage(ex))
        {
            throw Damaged("its end is damaged", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _current?.MarkStale();
        await _tar.DisposeAsync().ConfigureAwait(false);
        await _tarStream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Exceptions that mean the bytes are wrong, not that the disk or the caller failed.</summary>
    internal static bool IsDamage(Exception ex) =>
        ex is InvalidDataException or EndOfStreamException or FormatException or OverflowException
            or TenantBackupException { Code: ErrorCode.ArchiveCorrupt }
        || (ex is ArgumentException && ex is not ArgumentNullException)
        || IsParserFault(ex);

    // The tar and gzip readers parse bytes an attacker may have written; a fault inside them (not in our code, which the
    // fuzz tests hold to ArchiveCorrupt) is that input's doing, and says no more than "damaged".
    private static bool IsParserFault(Exception ex) =>
        ex is NullReferenceException or IndexOutOfRangeException
        && ex.TargetSite?.DeclaringType?.Assembly is { } thrower
        && (thrower == typeof(TarReader).Assembly || thrower == typeof(System.IO.Compression.GZipStream).Assembly);

    internal TenantBackupException Damaged(string what, Exception? inner = null)
    {
        string detail = inner is null ? string.Empty : $" ({Reason(inner)})";
        return new TenantBackupException(
            ErrorCode.ArchiveCorrupt,
            $"{_archiveName}{DamagedPrefix}{what}{detail}{DamagedAdvice}",
            _archiveName,
            inner);
    }

    private const string DamagedPrefix = " is damaged: ";
    private const string DamagedAdvice = ". Verify it and use another backup or copy.";

    // A layer below (decryption, decompression) may have said "<archive> is damaged: ..." already: keep only its reason,
    // so the message does not say it twice.
    private string Reason(Exception inner)
    {
        string message = inner.Message;
        string prefix = _archiveName + DamagedPrefix;
        if (inner is TenantBackupException { Code: ErrorCode.ArchiveCorrupt }
            && message.StartsWith(prefix, StringComparison.Ordinal)
            && message.EndsWith(DamagedAdvice, StringComparison.Ordinal))
        {
            return message[prefix.Length..^DamagedAdvice.Length];
        }

        return message.TrimEnd('.');
    }
}
