using System.Security.Cryptography;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Pass-through layer that SHA-256-hashes and counts every byte that goes through it, in either direction:
/// writes on their way to the inner stream, or reads on their way up from it. Used once per archive, so the
/// file's checksum costs no second pass.
/// </summary>
internal sealed class HashingStream : ForwardOnlyStream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _sha256;
    private bool _disposed;

    /// <summary>Hashes what passes between the caller and <paramref name="inner"/>.</summary>
    public HashingStream(Stream inner, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Bytes written or read through this stream so far.</summary>
    public long BytesHashed { get; private set; }

    /// <summary>
    /// SHA-256 of everything that went through, lowercase hex. Reading it ends the hash: no more data may pass.
    /// Still readable after disposal, which computes it.
    /// </summary>
    public string Sha256
    {
        get
        {
            if (_sha256 is null)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _sha256 = Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();
            }

            return _sha256;
        }
    }

    public override bool CanRead => !_disposed && _inner.CanRead;

    public override bool CanWrite => !_disposed && _inner.CanWrite;

    public override int Read(Span<byte> buffer)
    {
        int read = _inner.Read(buffer);
        Append(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Append(buffer.Span[..read]);
        return read;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfEnded();
        _inner.Write(buffer);
        Append(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfEnded();
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Append(buffer.Span);
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            try
            {
                _ = Sha256;
            }
            finally
            {
                _disposed = true;
                _hash.Dispose();
                if (!_leaveOpen)
                {
                    _inner.Dispose();
                }
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _ = Sha256;
            _disposed = true;
            _hash.Dispose();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        GC.SuppressFinalize(this);
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        ThrowIfEnded();
        _hash.AppendData(data);
        BytesHashed += data.Length;
    }

    private void ThrowIfEnded()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_sha256 is not null)
        {
            throw new InvalidOperationException("The hash was already taken; no more data may pass.");
        }
    }
}
