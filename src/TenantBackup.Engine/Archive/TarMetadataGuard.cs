using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Watches a tar stream on its way to <see cref="System.Formats.Tar.TarReader"/> and refuses a metadata entry (PAX extended
/// header, GNU long name) that declares more than <see cref="MaxMetadataBytes"/>. TarReader reads such an entry into one
/// buffer of the declared size, so without this a few flipped bits in a size field make a ten-kilobyte archive allocate a
/// gigabyte. Data entries are not limited: they stream. The guard follows the headers as TarReader does (sizes in the
/// ustar field, base-256 or a PAX <c>size</c> record) and, where it cannot, stops looking and leaves the refusal to TarReader.
/// </summary>
internal sealed class TarMetadataGuard : ForwardOnlyStream
{
    /// <summary>Far above any header TenantBackup writes (a path and a time), far below a harmful allocation.</summary>
    internal const int MaxMetadataBytes = 1024 * 1024;

    private const int Block = 512;

    private readonly Stream _inner;
    private readonly byte[] _header = new byte[Block];
    private int _headerFilled;
    private long _skip;
    private byte[]? _pax;
    private int _paxFilled;
    private long? _nextSize;
    private bool _done;

    /// <param name="inner">The tar stream; it stays open when the guard is disposed.</param>
    public TarMetadataGuard(Stream inner) => _inner = inner;

    public override bool CanRead => true;

    public override bool CanWrite => false;

    public override int Read(Span<byte> buffer)
    {
        int read = _inner.Read(buffer);
        Inspect(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Inspect(buffer.Span[..read]);
        return read;
    }

    private void Inspect(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && !_done)
        {
            if (_skip > 0)
            {
                int count = (int)Math.Min(_skip, bytes.Length);
                if (_pax is not null)
                {
                    int keep = Math.Min(count, _pax.Length - _paxFilled);
                    bytes[..keep].CopyTo(_pax.AsSpan(_paxFilled));
                    _paxFilled += keep;
                }

                _skip -= count;
                bytes = bytes[count..];
                if (_skip == 0 && _pax is not null)
                {
                    _nextSize = PaxSize(_pax);
                    _pax = null;
                }

                continue;
            }

            int take = Math.Min(Block - _headerFilled, bytes.Length);
            bytes[..take].CopyTo(_header.AsSpan(_headerFilled));
            _headerFilled += take;
            bytes = bytes[take..];
            if (_headerFilled == Block)
            {
                _headerFilled = 0;
                OnHeader();
            }
        }
    }

    private void OnHeader()
    {
        // The end-of-archive block, or a header TarReader will refuse on its own: nothing more to follow.
        if (!_header.AsSpan().ContainsAnyExcept((byte)0) || !TryReadSize(_header.AsSpan(124, 12), out long size))
        {
            _done = true;
            return;
        }

        byte type = _header[156];
        bool metadata = type is (byte)'x' or (byte)'g' or (byte)'L' or (byte)'K';
        if (metadata && size > MaxMetadataBytes)
        {
            throw new InvalidDataException(
                $"a tar metadata entry of type '{(char)type}' declares {size} bytes, more than the {MaxMetadataBytes} accepted");
        }

        if (!metadata && _nextSize is long paxSize)
        {
            size = paxSize;
        }

        if (!metadata)
        {
            _nextSize = null;
        }

        if (size > long.MaxValue - Block)
        {
            _done = true;
            return;
        }

        _skip = (size + Block - 1) / Block * Block;
        _pax = type == (byte)'x' && size > 0 ? new byte[size] : null;
        _paxFilled = 0;
    }

    // Octal digits (leading spaces, trailing NUL or space), or GNU base-256 for large values.
    private static bool TryReadSize(ReadOnlySpan<byte> field, out long size)
    {
        size = 0;
        if ((field[0] & 0x80) != 0)
        {
            if (field[0] != 0x80 || field[1..4].ContainsAnyExcept((byte)0))
            {
                return false;
            }

            size = BinaryPrimitives.ReadInt64BigEndian(field[4..]);
            return size >= 0;
        }

        var digits = Encoding.ASCII.GetString(field).Trim(' ', '\0');
        if (digits.Length == 0)
        {
            return true;
        }

        try
        {
            size = Convert.ToInt64(digits, 8);
            return size >= 0;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    // PAX records are "<length> <key>=<value>\n", the length in bytes; only size matters here. An unreadable set leaves the
    // ustar size, as it does for TarReader, which then refuses the entry itself.
    private static long? PaxSize(ReadOnlySpan<byte> records)
    {
        while (!records.IsEmpty && records[0] != 0)
        {
            int space = records.IndexOf((byte)' ');
            if (space <= 0
                || !int.TryParse(records[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length <= space + 1 || length > records.Length)
            {
                return null;
            }

            var record = records[(space + 1)..(length - 1)];
            if (record.StartsWith("size="u8)
                && long.TryParse(record[5..], NumberStyles.None, CultureInfo.InvariantCulture, out long size))
            {
                return size;
            }

            records = records[length..];
        }

        return null;
    }
}
