using System.Text;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Turns a table's COPY text, block by block, into chunks of whole rows: UTF-8 bytes in one reusable buffer,
/// each chunk cut after the last newline that fits in the chunk size. In COPY text format every real newline
/// ends a row (newlines inside values are escaped), so rows are counted as newline bytes and never parsed.
/// </summary>
internal sealed class CopyChunkBuffer
{
    /// <summary>Characters asked of the reader at most per block.</summary>
    public const int BlockChars = 64 * 1024;

    // Near the cut, smaller reads keep the carried-over tail (and the copy it costs) small.
    private const int MinimumBlockChars = 4 * 1024;

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly int _chunkSize;
    private readonly Encoder _encoder = s_utf8.GetEncoder();
    private byte[] _buffer;
    private int _length;
    private int _searchedForRowEnd;
    private long _pendingRows;
    private int _cut;
    private long _rowsAfterCut;

    public CopyChunkBuffer(int chunkSize)
    {
        _chunkSize = chunkSize;
        _buffer = GC.AllocateUninitializedArray<byte>(chunkSize + s_utf8.GetMaxByteCount(BlockChars));
    }

    /// <summary>How many characters to read next.</summary>
    public int NextBlockChars => Math.Clamp(_chunkSize - _length, MinimumBlockChars, BlockChars);

    /// <summary>Forgets everything, for the next table.</summary>
    public void Reset()
    {
        _encoder.Reset();
        _length = 0;
        _searchedForRowEnd = 0;
        _pendingRows = 0;
        _cut = 0;
        _rowsAfterCut = 0;
    }

    /// <summary>Encodes a block; <paramref name="final"/> flushes a dangling surrogate. Returns the rows (newlines) it ended.</summary>
    /// <exception cref="EncoderFallbackException">The text holds an unpaired surrogate.</exception>
    public int Append(ReadOnlySpan<char> chars, bool final)
    {
        EnsureRoom(s_utf8.GetMaxByteCount(chars.Length));
        Span<byte> free = _buffer.AsSpan(_length);
        _encoder.Convert(chars, free, final, out _, out int written, out _);
        int rows = free[..written].Count((byte)'\n');
        _length += written;
        _pendingRows += rows;
        return rows;
    }

    /// <summary>
    /// Room for the next block of COPY bytes that are already UTF-8, in the buffer itself so they are never copied;
    /// report what was read into it with <see cref="Appended"/>.
    /// </summary>
    public Memory<byte> NextByteBlock()
    {
        int size = NextBlockChars;
        EnsureRoom(size);
        return _buffer.AsMemory(_length, size);
    }

    /// <summary>
    /// Takes in <paramref name="count"/> bytes read into <see cref="NextByteBlock"/>. Returns the rows (newlines) they ended.
    /// </summary>
    public int Appended(int count)
    {
        int rows = _buffer.AsSpan(_length, count).Count((byte)'\n');
        _length += count;
        _pendingRows += rows;
        return rows;
    }

    /// <summary>
    /// Finds the next chunk, if one is due: at the chunk size, whole rows up to the last newline that fits (or one
    /// row longer than the chunk size, whole); at the end, everything left. Hand it back with <see cref="Consume"/>.
    /// </summary>
    public bool TryTakeChunk(bool final, out ReadOnlyMemory<byte> chunk, out long rows)
    {
        chunk = default;
        rows = 0;
        _cut = final ? _length : FindCut();
        if (_cut == 0)
        {
            return false;
        }

        _rowsAfterCut = _buffer.AsSpan(_cut, _length - _cut).Count((byte)'\n');
        rows = _pendingRows - _rowsAfterCut;
        chunk = _buffer.AsMemory(0, _cut);
        return true;
    }

    /// <summary>Drops the chunk last taken, keeping what follows it for the next one.</summary>
    public void Consume()
    {
        int rest = _length - _cut;
        _buffer.AsSpan(_cut, rest).CopyTo(_buffer);
        _pendingRows = _rowsAfterCut;
        _length = rest;
        _searchedForRowEnd = 0;
        _cut = 0;
    }

    private int FindCut()
    {
        if (_length < _chunkSize)
        {
            return 0;
        }

        int last = _buffer.AsSpan(0, _chunkSize).LastIndexOf((byte)'\n');
        if (last >= 0)
        {
            return last + 1;
        }

        // One row longer than a chunk: it becomes a chunk of its own once its end has arrived.
        int from = Math.Max(_chunkSize, _searchedForRowEnd);
        int end = _buffer.AsSpan(from, _length - from).IndexOf((byte)'\n');
        _searchedForRowEnd = _length;
        return end < 0 ? 0 : from + end + 1;
    }

    private void EnsureRoom(int bytes)
    {
        if (_buffer.Length - _length < bytes)
        {
            // Only a row longer than the chunk size gets here: memory is bounded by the longest row.
            long size = Math.Max((long)_buffer.Length * 2, (long)_length + bytes);
            if (size > Array.MaxLength)
            {
                throw new InvalidOperationException($"A row of more than {Array.MaxLength / 2} bytes cannot be buffered.");
            }

            Array.Resize(ref _buffer, (int)size);
        }
    }
}
