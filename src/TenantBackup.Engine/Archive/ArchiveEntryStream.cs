namespace TenantBackup.Engine.Archive;

/// <summary>
/// The content of the current tar entry, as the reader hands it out: a short entry (the archive ends inside it)
/// and any decoding failure become <see cref="ErrorCode.ArchiveCorrupt"/> errors naming archive and entry, and
/// the stream refuses use once the reader has moved on.
/// </summary>
internal sealed class ArchiveEntryStream : ForwardOnlyStream
{
    private readonly ArchiveReader _reader;
    private readonly Stream _data;
    private readonly string _name;
    private readonly long _size;
    private long _read;
    private bool _stale;

    public ArchiveEntryStream(ArchiveReader reader, Stream data, string name, long size)
    {
        _reader = reader;
        _data = data;
        _name = name;
        _size = size;
    }

    public override bool CanRead => !_stale;

    public override bool CanWrite => false;

    /// <summary>Called when the reader moves to the next entry.</summary>
    public void MarkStale() => _stale = true;

    public override int Read(Span<byte> buffer)
    {
        ThrowIfStale();
        int read;
        try
        {
            read = _data.Read(buffer);
        }
        catch (Exception ex) when (ArchiveReader.IsDamage(ex))
        {
            throw _reader.Damaged($"entry {_name} cannot be read", ex);
        }

        return Account(read, buffer.Length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfStale();
        int read;
        try
        {
            read = await _data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ArchiveReader.IsDamage(ex))
        {
            throw _reader.Damaged($"entry {_name} cannot be read", ex);
        }

        return Account(read, buffer.Length);
    }

    private int Account(int read, int asked)
    {
        _read += read;
        if (read == 0 && asked > 0 && _read < _size)
        {
            throw _reader.Damaged($"entry {_name} ends after {_read} of its {_size} bytes (the file is truncated)");
        }

        return read;
    }

    private void ThrowIfStale()
    {
        if (_stale)
        {
            throw new InvalidOperationException($"The data of entry {_name} is gone: the reader has moved to the next entry.");
        }
    }
}
