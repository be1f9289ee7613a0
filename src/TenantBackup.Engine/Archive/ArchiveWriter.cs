using System.Formats.Tar;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using TenantBackup.Engine.Archive.Encryption;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Writes one archive in format <c>tenantbackup/1</c>: a PAX tar stream, compressed, hashed as a whole on its way to
/// the output. Entries go in the design's order (tenantbackup.json, schema.json, data chunks, files, manifest.json
/// last); every entry is recorded for the manifest. Not thread-safe: one call at a time. After a failure the
/// writer refuses further work; dispose it and delete the output.
/// </summary>
internal sealed partial class ArchiveWriter : IAsyncDisposable
{
    /// <summary>Default size of a data chunk.</summary>
    public const int DefaultChunkSize = 8 * 1024 * 1024;

    private const UnixFileMode EntryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly Stream _output;
    private readonly HashingStream _hashing;
    private readonly Stream _compressed;
    private readonly TarWriter _tar;
    private readonly DateTimeOffset _entryTime;
    private readonly int _chunkSize;
    private readonly string? _keyId;
    private readonly List<ManifestEntry> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private CopyChunkBuffer? _chunks;
    private char[]? _block;
    private int _tables;
    private long _rows;
    private long _bytes;
    private State _state;

    private enum State
    {
        Open,
        Failed,
        Completed,
        Disposed,
    }

    private ArchiveWriter(Stream output, HashingStream hashing, Stream compressed, DateTimeOffset entryTime, int chunkSize, string? keyId)
    {
        _keyId = keyId;
        _output = output;
        _hashing = hashing;
        _compressed = compressed;
        _tar = new TarWriter(compressed, TarEntryFormat.Pax, leaveOpen: true);
        _entryTime = DateTimeOffset.FromUnixTimeSeconds(entryTime.ToUnixTimeSeconds());
        _chunkSize = chunkSize;
    }

    /// <summary>Starts an archive on <paramref name="output"/>, which the caller keeps owning and closes after completion.</summary>
    /// <param name="output">The destination, normally the <c>.partial</c> file.</param>
    /// <param name="compression">Codec of the tar stream.</param>
    /// <param name="level">Codec level; null for its default (see <see cref="CompressionStreams.OpenWrite"/>).</param>
    /// <param name="entryTime">Modification time of every entry (whole seconds), so entries carry no clock noise.</param>
    /// <param name="chunkSize">Largest data chunk, unless one row is longer.</param>
    /// <param name="encryption">When given, the compressed stream is encrypted with it (docs/archive-format.md).</param>
    /// <param name="encryptionChunkSize">Plaintext bytes per encrypted chunk.</param>
    public static ArchiveWriter Create(
        Stream output,
        Compression compression,
        int? level,
        DateTimeOffset entryTime,
        int chunkSize = DefaultChunkSize,
        EncryptionKey? encryption = null,
        int encryptionChunkSize = EnvelopeHeader.DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, Array.MaxLength / 2);
        if (!output.CanWrite)
        {
            throw new ArgumentException("The archive output must be writable.", nameof(output));
        }

        var hashing = new HashingStream(output, leaveOpen: true);
        Stream sink = hashing;
        try
        {
            // Encryption comes after compression (ciphertext does not compress) and before the hash, which is the file's.
            EnvelopeHeader? header = null;
            if (encryption is not null)
            {
                sink = ArchiveEncryption.OpenWrite(hashing, encryption, out header, encryptionChunkSize);
            }

            var compressed = CompressionStreams.OpenWrite(sink, compression, level);
            return new ArchiveWriter(output, hashing, compressed, entryTime, chunkSize, header?.KeyId);
        }
        catch
        {
            sink.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="value"/> as an indented, camelCase UTF-8 JSON entry.</summary>
    public Task WriteJsonEntryAsync<T>(string name, T value, CancellationToken cancellationToken)
    {
        CheckNewEntry(name);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(value, Json.Options);
        return RunAsync(() => WriteEntryAsync(name, json, table: null, rows: null, cancellationToken));
    }

    /// <summary>
    /// Writes <c>manifest.json</c>, ends the tar and compressed streams and flushes the output to disk. The output
    /// is then complete; the caller closes and renames it.
    /// </summary>
    /// <param name="backupId">The id written in <c>tenantbackup.json</c>.</param>
    /// <param name="cancellationToken">Cancels the final flush.</param>
    public Task<ArchiveSummary> CompleteAsync(string backupId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(backupId);
        CheckOpen();
        CheckFirstEntriesWritten();

        return RunAsync(() => FinishAsync(backupId, cancellationToken));
    }

    /// <summary>Releases the layers. Without <see cref="CompleteAsync"/>, the output holds an unusable partial archive.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state is State.Completed or State.Disposed)
        {
            _state = State.Disposed;
            return;
        }

        _state = State.Disposed;

        // The tar end and the compressed stream's end are pointless here, but harmless: the output is being discarded.
        await DisposeQuietlyAsync(_tar).ConfigureAwait(false);
        await DisposeQuietlyAsync(_compressed).ConfigureAwait(false);
    }

    private static async Task DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The caller is already handling whatever failure brought it here; this one would only mask it.
        }
    }

    private async Task<ArchiveSummary> FinishAsync(string backupId, CancellationToken cancellationToken)
    {
        var manifest = new ArchiveManifest
        {
            Format = ArchiveLayout.FormatId,
            BackupId = backupId,
            Entries = _entries.ToArray(),
            Totals = new ManifestTotals { Entries = _entries.Count, Tables = _tables, Rows = _rows, Bytes = _bytes },
            CompletedAt = DateTimeOffset.UtcNow,
        };
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, Json.Options);
        await _tar.WriteEntryAsync(NewEntry(ArchiveLayout.ManifestJson, new MemoryStream(json, writable: false)), cancellationToken)
            .ConfigureAwait(false);

        // Ends the tar, then the compressed stream (flushing libzstd's last blocks), then the hash.
        await _tar.DisposeAsync().ConfigureAwait(false);
        await _compressed.DisposeAsync().ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_output is FileStream file)
        {
            // There is no asynchronous fsync; the archive must be on disk before it is renamed into place.
            file.Flush(flushToDisk: true);
        }

        _state = State.Completed;
        return new ArchiveSummary(_hashing.Sha256, _hashing.BytesHashed, manifest, _keyId);
    }

    private async Task WriteEntryAsync(
        string name, ReadOnlyMemory<byte> data, string? table, long? rows, CancellationToken cancellationToken)
    {
        _names.Add(name);
        Stream stream = MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        await _tar.WriteEntryAsync(NewEntry(name, stream), cancellationToken).ConfigureAwait(false);
        Record(name, data.Length, Convert.ToHexString(SHA256.HashData(data.Span)).ToLowerInvariant(), table, rows);
    }

    private void Record(string name, long size, string sha256, string? table, long? rows)
    {
        _entries.Add(new ManifestEntry { Name = name, Size = size, Sha256 = sha256, Table = table, Rows = rows });
        _bytes += size;
        _rows += rows ?? 0;
    }

    private PaxTarEntry NewEntry(string name, Stream data) => new(TarEntryType.RegularFile, name)
    {
        DataStream = data,
        Mode = EntryMode,
        ModificationTime = _entryTime,
        Uid = 0,
        Gid = 0,
        UserName = string.Empty,
        GroupName = string.Empty,
    };

    /// <summary>Refuses a name out of order, unsafe or already written: the reader and verifier would reject the archive.</summary>
    private void CheckNewEntry(string name)
    {
        CheckOpen();
        if (!ArchiveLayout.IsSafeEntryName(name) || string.Equals(name, ArchiveLayout.ManifestJson, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a valid archive entry name.", nameof(name));
        }

        string? expected = _entries.Count switch
        {
            0 => ArchiveLayout.TenantBackupJson,
            1 => ArchiveLayout.SchemaJson,
            _ => null,
        };
        if (expected is not null && !string.Equals(name, expected, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Entry {_entries.Count + 1} of an archive must be {expected}, not {name}.");
        }

        if (_names.Contains(name))
        {
            throw new InvalidOperationException($"The archive already has an entry {name}.");
        }
    }

    private void CheckFirstEntriesWritten()
    {
        if (_entries.Count < 2)
        {
            throw new InvalidOperationException($"{ArchiveLayout.TenantBackupJson} and {ArchiveLayout.SchemaJson} must be written first.");
        }
    }

    private void CheckOpen()
    {
        ObjectDisposedException.ThrowIf(_state == State.Disposed, this);
        if (_state != State.Open)
        {
            throw new InvalidOperationException(_state == State.Failed
                ? "An earlier write to this archive failed; the archive is unusable."
                : "The archive is already complete.");
        }
    }

    private async Task<T> RunAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _state = State.Failed;
            throw new TenantBackupException(
                ErrorCode.IOError, $"The archive could not be written: {ex.Message}", (_output as FileStream)?.Name, ex);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
    }

    private Task RunAsync(Func<Task> operation) => RunAsync(async () =>
    {
        await operation().ConfigureAwait(false);
        return true;
    });
}
