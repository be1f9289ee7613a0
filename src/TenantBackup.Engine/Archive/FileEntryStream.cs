using System.Security.Cryptography;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// The data of a <c>files/</c> entry: exactly the length the tar header announced, hashed as the tar writer reads
/// it. A file that shrinks meanwhile is an error instead of a short entry; TarWriter needs a seekable-looking
/// stream to learn the length, so Length and Position are reported but seeking is refused.
/// </summary>
internal sealed class FileEntryStream : Stream
{
    private readonly FileStream _file;
    private readonly long _length;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;

    public FileEntryStream(FileStream file)
    {
        _file = file;
        _length = file.Length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    /// <summary>SHA-256 of the data read, lowercase hex; call once, after all of it was read.</summary>
    public string FinishSha256() => Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = _file.Read(Limit(buffer));
        return Account(buffer[..read], buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _file.ReadAsync(Limit(buffer), cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..read], buffer.Length);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    private Span<byte> Limit(Span<byte> buffer) => buffer[..(int)Math.Min(buffer.Length, _length - _read)];

    private Memory<byte> Limit(Memory<byte> buffer) => buffer[..(int)Math.Min(buffer.Length, _length - _read)];

    private int Account(ReadOnlySpan<byte> data, int asked)
    {
        if (data.IsEmpty && asked > 0 && _read < _length)
        {
            throw new TenantBackupException(
                ErrorCode.IOError,
                $"'{_file.Name}' shrank while it was being backed up; back it up again when it is not being written.",
                _file.Name);
        }

        _hash.AppendData(data);
        _read += data.Length;
        return data.Length;
    }
}
