using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Read-only stream over zstd data: one frame or several concatenated. Hostile input is contained: the window
/// (and so the memory) a frame may ask for is capped, and every failure, truncation or stall is an
/// <see cref="ErrorCode.ArchiveCorrupt"/> error rather than a hang.
/// </summary>
internal sealed class ZstdDecompressStream : ForwardOnlyStream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly ZstdDecompressContext _context;
    private readonly byte[] _input;
    private readonly unsafe byte* _inputPointer;
    private int _inputPosition;
    private int _inputLength;
    private bool _innerEnded;
    private bool _inFrame;
    private bool _ended;
    private bool _disposed;

    /// <summary>Reads zstd data from <paramref name="inner"/>.</summary>
    public unsafe ZstdDecompressStream(Stream inner, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ZstdNative.EnsureAvailable();
        _context = ZstdNative.CreateDCtx();
        if (_context.IsInvalid)
        {
            throw new OutOfMemoryException("libzstd could not allocate a decompression context.");
        }

        nuint result = ZstdNative.DCtxSetParameter(_context, ZstdNative.WindowLogMaxParameter, ZstdNative.MaxWindowLog);
        if (ZstdNative.IsError(result))
        {
            _context.Dispose();
            throw new TenantBackupException(
                ErrorCode.CompressionUnavailable, $"libzstd refused a window limit: {ZstdNative.ErrorName(result)}.");
        }

        _inner = inner;
        _leaveOpen = leaveOpen;
        _input = GC.AllocateUninitializedArray<byte>((int)ZstdNative.DStreamInSize(), pinned: true);
        _inputPointer = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_input));
    }

    public override bool CanRead => !_disposed;

    public override bool CanWrite => false;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        while (true)
        {
            if (_inputPosition == _inputLength && !_innerEnded)
            {
                Refill(_inner.Read(_input, 0, _input.Length));
            }

            if (TryDecompress(buffer, out int produced))
            {
                return produced;
            }
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        while (true)
        {
            if (_inputPosition == _inputLength && !_innerEnded)
            {
                Refill(await _inner.ReadAsync(_input, cancellationToken).ConfigureAwait(false));
            }

            if (TryDecompress(buffer.Span, out int produced))
            {
                return produced;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            _context.Dispose();
            if (disposing && !_leaveOpen)
            {
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
            _context.Dispose();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        GC.SuppressFinalize(this);
    }

    private void Refill(int read)
    {
        _inputPosition = 0;
        _inputLength = read;
        _innerEnded = read == 0;
    }

    /// <summary>One decoding step. True when the read is answered: bytes produced, or the clean end of the data.</summary>
    private unsafe bool TryDecompress(Span<byte> buffer, out int produced)
    {
        int consumedBefore = _inputPosition;
        nuint result;
        fixed (byte* destination = buffer)
        {
            var output = new ZstdOutBuffer { Destination = destination, Size = (nuint)buffer.Length };
            var input = new ZstdInBuffer { Source = _inputPointer, Size = (nuint)_inputLength, Position = (nuint)_inputPosition };
            result = ZstdNative.DecompressStream(_context, &output, &input);
            _inputPosition = (int)input.Position;
            produced = (int)output.Position;
        }

        if (ZstdNative.IsError(result))
        {
            throw Corrupt($"the zstd data is damaged ({ZstdNative.ErrorName(result)})");
        }

        // 0 means a frame ended and everything it held was delivered; another frame may follow.
        if (result == 0)
        {
            _inFrame = false;
        }
        else if (produced > 0 || _inputPosition > consumedBefore)
        {
            _inFrame = true;
        }

        if (produced > 0)
        {
            return true;
        }

        if (_inputPosition == _inputLength && _innerEnded)
        {
            if (_inFrame)
            {
                throw Corrupt("the zstd data ends in the middle of a frame (the file is truncated)");
            }

            _ended = true;
            return true;
        }

        // libzstd always makes progress while it has input and room for output; guard anyway, never spin.
        if (_inputPosition == consumedBefore && _inputPosition < _inputLength)
        {
            throw Corrupt("the zstd decoder made no progress");
        }

        return false;
    }

    private static TenantBackupException Corrupt(string what) => new(ErrorCode.ArchiveCorrupt, $"Cannot decompress: {what}.");
}
