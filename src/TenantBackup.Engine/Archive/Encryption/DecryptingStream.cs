using System.Security.Cryptography;

namespace TenantBackup.Engine.Archive.Encryption;

/// <summary>
/// Read-only layer that reads an encrypted archive's chunks after its header and gives back their plaintext, each
/// chunk only once its tag holds. A chunk is the final one when the file ends right after it, which one byte of
/// look-ahead tells; a chunk that fails its tag, a file cut inside a chunk, or bytes after the final chunk are
/// <see cref="ErrorCode.ArchiveCorrupt"/> errors. Memory: one chunk of ciphertext and one of plaintext.
/// </summary>
internal sealed class DecryptingStream : ForwardOnlyStream
{
    private readonly Stream _inner;
    private readonly ChunkCipher _cipher;
    private readonly string _archiveName;
    private readonly byte[] _frame;
    private readonly byte[] _plain;
    private readonly byte[] _lookAhead = new byte[1];
    private bool _hasLookAhead;
    private int _plainStart;
    private int _plainEnd;
    private bool _ended;
    private bool _disposed;

    public DecryptingStream(Stream inner, EnvelopeHeader header, ReadOnlySpan<byte> dataKey, string archiveName)
    {
        _inner = inner;
        _cipher = new ChunkCipher(dataKey, header.NoncePrefix);
        _archiveName = archiveName;
        _frame = new byte[header.ChunkSize + EnvelopeHeader.TagSize];
        _plain = new byte[header.ChunkSize];
    }

    public override bool CanRead => !_disposed;

    public override bool CanWrite => false;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_plainStart == _plainEnd && !_ended && !buffer.IsEmpty)
        {
            int filled = StartFrame();
            filled += _inner.ReadAtLeast(_frame.AsSpan(filled), _frame.Length - filled, throwOnEndOfStream: false);
            bool final = filled < _frame.Length || _inner.Read(_lookAhead) == 0;
            OpenFrame(filled, final);
        }

        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_plainStart == _plainEnd && !_ended && !buffer.IsEmpty)
        {
            int filled = StartFrame();
            filled += await _inner
                .ReadAtLeastAsync(_frame.AsMemory(filled), _frame.Length - filled, throwOnEndOfStream: false, cancellationToken)
                .ConfigureAwait(false);
            bool final = filled < _frame.Length || await _inner.ReadAsync(_lookAhead, cancellationToken).ConfigureAwait(false) == 0;
            OpenFrame(filled, final);
        }

        return Take(buffer.Span);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            Clear();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            Clear();
            await _inner.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Puts the byte read ahead at the start of the frame; returns how many bytes the frame holds so far.</summary>
    private int StartFrame()
    {
        if (!_hasLookAhead)
        {
            return 0;
        }

        _frame[0] = _lookAhead[0];
        _hasLookAhead = false;
        return 1;
    }

    private void OpenFrame(int length, bool final)
    {
        ulong index = _cipher.Index;
        if (length < EnvelopeHeader.TagSize)
        {
            throw Damaged(length == 0 && index == 0
                ? "it ends right after its encryption header, with no chunk"
                : $"it ends inside encrypted chunk {index}");
        }

        if (!_cipher.TryOpen(_frame.AsSpan(0, length), _plain, final))
        {
            throw Damaged(
                $"encrypted chunk {index} fails authentication: the file was altered, cut short, reordered or extended " +
                "(the key is right: it matches the archive's key id)");
        }

        _hasLookAhead = !final;
        _plainStart = 0;
        _plainEnd = length - EnvelopeHeader.TagSize;
        _ended = final;
    }

    private int Take(Span<byte> buffer)
    {
        int count = Math.Min(buffer.Length, _plainEnd - _plainStart);
        _plain.AsSpan(_plainStart, count).CopyTo(buffer);
        _plainStart += count;
        return count;
    }

    private TenantBackupException Damaged(string what) => new(
        ErrorCode.ArchiveCorrupt, $"{_archiveName} is damaged: {what}. Verify it and use another backup or copy.", _archiveName);

    private void Clear()
    {
        CryptographicOperations.ZeroMemory(_plain);
        _cipher.Dispose();
    }
}
