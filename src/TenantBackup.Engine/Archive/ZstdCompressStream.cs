using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Write-only stream that compresses into one zstd frame (with a content checksum) on an inner stream.
/// Disposing finishes the frame. With workers, libzstd compresses on its own threads while the caller
/// produces the next input.
/// </summary>
internal sealed class ZstdCompressStream : ForwardOnlyStream
{
    // Eight times ZSTD_CStreamOutSize, so the inner stream sees fewer, bigger writes.
    private const int OutputBufferSize = 1 << 20;

    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly ZstdCompressContext _context;
    private readonly byte[] _output;
    private readonly unsafe byte* _outputPointer;
    private bool _finished;
    private bool _disposed;

    /// <summary>Starts a frame on <paramref name="inner"/>.</summary>
    /// <param name="inner">Where the compressed bytes go.</param>
    /// <param name="level">zstd level; null means 3.</param>
    /// <param name="leaveOpen">Keep <paramref name="inner"/> open on dispose.</param>
    /// <param name="workers">Compression threads; null means one per processor, 0 compresses on the calling thread.</param>
    public unsafe ZstdCompressStream(Stream inner, int? level = null, bool leaveOpen = false, int? workers = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ZstdNative.EnsureAvailable();
        int effectiveLevel = level ?? ZstdNative.DefaultLevel;
        (int min, int max) = ZstdNative.LevelRange;
        if (effectiveLevel < min || effectiveLevel > max)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, $"zstd level {effectiveLevel} is outside {min}..{max}.", effectiveLevel);
        }

        _context = ZstdNative.CreateCCtx();
        if (_context.IsInvalid)
        {
            throw new OutOfMemoryException("libzstd could not allocate a compression context.");
        }

        try
        {
            Check(ZstdNative.CCtxSetParameter(_context, ZstdNative.CompressionLevelParameter, effectiveLevel));
            Check(ZstdNative.CCtxSetParameter(_context, ZstdNative.ChecksumFlagParameter, 1));
            Workers = SetWorkers(workers ?? Environment.ProcessorCount);
        }
        catch
        {
            _context.Dispose();
            throw;
        }

        _inner = inner;
        _leaveOpen = leaveOpen;
        _output = GC.AllocateUninitializedArray<byte>(OutputBufferSize, pinned: true);
        _outputPointer = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_output));
    }

    /// <summary>Compression threads in use: 0 when libzstd was built without multi-threading.</summary>
    public int Workers { get; }

    public override bool CanRead => false;

    public override bool CanWrite => !_disposed;

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfDisposed();
        fixed (byte* source = buffer)
        {
            var input = new ZstdInBuffer { Source = source, Size = (nuint)buffer.Length };
            do
            {
                int produced = Compress(&input, ZstdEndDirective.Continue, out _);
                if (produced > 0)
                {
                    _inner.Write(_output, 0, produced);
                }
            }
            while (input.Position < input.Size);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        using MemoryHandle pin = buffer.Pin();
        nuint position = 0;
        do
        {
            int produced = CompressPinned(pin, buffer.Length, ref position);
            if (produced > 0)
            {
                await _inner.WriteAsync(_output.AsMemory(0, produced), cancellationToken).ConfigureAwait(false);
            }
        }
        while (position < (nuint)buffer.Length);
    }

    /// <summary>Pushes everything written so far to the inner stream (ends a zstd block, costing a little ratio).</summary>
    public override void Flush()
    {
        ThrowIfDisposed();
        Drain(ZstdEndDirective.Flush);
        _inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await DrainAsync(ZstdEndDirective.Flush, cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (disposing && !_finished)
            {
                _finished = true;
                Drain(ZstdEndDirective.End);
            }
        }
        finally
        {
            _context.Dispose();
            if (disposing && !_leaveOpen)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_finished)
            {
                _finished = true;
                await DrainAsync(ZstdEndDirective.End, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _context.Dispose();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }

            GC.SuppressFinalize(this);
        }
    }

    // With workers, e_flush and e_end must be repeated until libzstd reports nothing left in flight.
    private unsafe void Drain(ZstdEndDirective directive)
    {
        var input = default(ZstdInBuffer);
        nuint remaining;
        do
        {
            int produced = Compress(&input, directive, out remaining);
            if (produced > 0)
            {
                _inner.Write(_output, 0, produced);
            }
        }
        while (remaining != 0);
    }

    private async Task DrainAsync(ZstdEndDirective directive, CancellationToken cancellationToken)
    {
        nuint remaining;
        do
        {
            int produced = CompressNothing(directive, out remaining);
            if (produced > 0)
            {
                await _inner.WriteAsync(_output.AsMemory(0, produced), cancellationToken).ConfigureAwait(false);
            }
        }
        while (remaining != 0);
    }

    // Async methods cannot hold pointers, so each step of the async paths is its own synchronous call.
    private unsafe int CompressPinned(MemoryHandle pin, int length, ref nuint position)
    {
        var input = new ZstdInBuffer { Source = (byte*)pin.Pointer, Size = (nuint)length, Position = position };
        int produced = Compress(&input, ZstdEndDirective.Continue, out _);
        position = input.Position;
        return produced;
    }

    private unsafe int CompressNothing(ZstdEndDirective directive, out nuint remaining)
    {
        var input = default(ZstdInBuffer);
        return Compress(&input, directive, out remaining);
    }

    private unsafe int Compress(ZstdInBuffer* input, ZstdEndDirective directive, out nuint remaining)
    {
        var output = new ZstdOutBuffer { Destination = _outputPointer, Size = (nuint)_output.Length };
        remaining = Check(ZstdNative.CompressStream2(_context, &output, input, directive));
        return (int)output.Position;
    }

    private int SetWorkers(int workers)
    {
        if (workers <= 0)
        {
            return 0;
        }

        // A libzstd built without ZSTD_MULTITHREAD refuses nbWorkers > 0; it still compresses on the caller's thread.
        if (ZstdNative.IsError(ZstdNative.CCtxSetParameter(_context, ZstdNative.WorkersParameter, workers)))
        {
            return 0;
        }

        return workers;
    }

    private static nuint Check(nuint result)
    {
        if (ZstdNative.IsError(result))
        {
            throw new TenantBackupException(ErrorCode.IOError, $"zstd compression failed: {ZstdNative.ErrorName(result)}.");
        }

        return result;
    }

    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }
}
