using System.Security.Cryptography;

namespace TenantBackup.Engine.Archive.Encryption;

/// <summary>
/// Write-only layer that cuts what is written into chunks of the header's size and writes each one sealed. A full
/// chunk is held back until more bytes come, because only disposal says which chunk is the final one; disposal
/// seals it (possibly empty) as final. Memory: one chunk of plaintext and one of ciphertext.
/// </summary>
internal sealed class EncryptingStream : ForwardOnlyStream
{
    private readonly Stream _inner;
    private readonly ChunkCipher _cipher;
    private readonly byte[] _plain;
    private readonly byte[] _frame;
    private int _filled;
    private bool _disposed;

    public EncryptingStream(Stream inner, EnvelopeHeader header, ReadOnlySpan<byte> dataKey)
    {
        _inner = inner;
        _cipher = new ChunkCipher(dataKey, header.NoncePrefix);
        _plain = new byte[header.ChunkSize];
        _frame = new byte[header.ChunkSize + EnvelopeHeader.TagSize];
    }

    public override bool CanRead => false;

    public override bool CanWrite => !_disposed;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!buffer.IsEmpty)
        {
            if (_filled == _plain.Length)
            {
                _inner.Write(_frame, 0, SealChunk(final: false));
            }

            buffer = buffer[Fill(buffer)..];
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!buffer.IsEmpty)
        {
            if (_filled == _plain.Length)
            {
                await _inner.WriteAsync(_frame.AsMemory(0, SealChunk(final: false)), cancellationToken).ConfigureAwait(false);
            }

            buffer = buffer[Fill(buffer.Span)..];
        }
    }

    // A chunk cannot be sealed early (every chunk but the last is full), so a flush reaches only what is sealed already.
    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            try
            {
                _inner.Write(_frame, 0, SealChunk(final: true));
                _inner.Flush();
            }
            finally
            {
                Clear();
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            try
            {
                await _inner.WriteAsync(_frame.AsMemory(0, SealChunk(final: true))).ConfigureAwait(false);
                await _inner.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                Clear();
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        GC.SuppressFinalize(this);
    }

    private int Fill(ReadOnlySpan<byte> buffer)
    {
        int take = Math.Min(buffer.Length, _plain.Length - _filled);
        buffer[..take].CopyTo(_plain.AsSpan(_filled));
        _filled += take;
        return take;
    }

    private int SealChunk(bool final)
    {
        int length = _cipher.Seal(_plain.AsSpan(0, _filled), _frame, final);
        _filled = 0;
        return length;
    }

    private void Clear()
    {
        CryptographicOperations.ZeroMemory(_plain);
        _cipher.Dispose();
    }
}
