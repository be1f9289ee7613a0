namespace TenantBackup.Engine.Archive;

/// <summary>Gives back bytes already read from a stream (to sniff its format) ahead of the rest of it.</summary>
internal sealed class PrefixedReadStream : ForwardOnlyStream
{
    private readonly byte[] _prefix;
    private readonly Stream _inner;
    private int _prefixPosition;
    private bool _disposed;

    public PrefixedReadStream(ReadOnlySpan<byte> prefix, Stream inner)
    {
        _prefix = prefix.ToArray();
        _inner = inner;
    }

    public override bool CanRead => !_disposed;

    public override bool CanWrite => false;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TakePrefix(buffer) is int taken and > 0 ? taken : _inner.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TakePrefix(buffer.Span) is int taken and > 0 ? ValueTask.FromResult(taken) : _inner.ReadAsync(buffer, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await _inner.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    private int TakePrefix(Span<byte> buffer)
    {
        int count = Math.Min(buffer.Length, _prefix.Length - _prefixPosition);
        _prefix.AsSpan(_prefixPosition, count).CopyTo(buffer);
        _prefixPosition += count;
        return count;
    }
}
