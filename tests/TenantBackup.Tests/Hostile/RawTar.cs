using System.Text;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// A tar stream cut into its entries at the byte level, as an attacker with a hex editor sees it: each entry is its
/// headers (PAX extended headers included) and its padded data, so entries can be moved, copied or given a lying size
/// field without any library tidying them up.
/// </summary>
internal sealed class RawTar
{
    public const int Block = 512;

    private RawTar(List<Entry> entries, byte[] tail)
    {
        Entries = entries;
        Tail = tail;
    }

    /// <summary>One entry: its bytes, and where its own (ustar) header starts in them.</summary>
    public sealed record Entry(string Name, byte[] Bytes, int HeaderOffset);

    public List<Entry> Entries { get; }

    /// <summary>The end-of-archive blocks and whatever padding follows them.</summary>
    public byte[] Tail { get; }

    public static RawTar Parse(byte[] tar)
    {
        var entries = new List<Entry>();
        int position = 0;
        int start = 0;
        while (position + Block <= tar.Length && tar.AsSpan(position, Block).ContainsAnyExcept((byte)0))
        {
            long size = ReadOctal(tar.AsSpan(position + 124, 12));
            byte type = tar[position + 156];
            int header = position;
            position += Block + (int)((size + Block - 1) / Block * Block);
            if (type is (byte)'x' or (byte)'g' or (byte)'L' or (byte)'K')
            {
                continue;
            }

            string name = Encoding.UTF8.GetString(tar.AsSpan(header, 100)).TrimEnd('\0');
            entries.Add(new Entry(name, tar[start..position], header - start));
            start = position;
        }

        return new RawTar(entries, tar[position..]);
    }

    public byte[] ToBytes() => [.. Entries.SelectMany(e => e.Bytes), .. Tail];

    /// <summary>A copy of <paramref name="entry"/> whose header declares <paramref name="size"/> bytes, checksum fixed.</summary>
    public static Entry WithSize(Entry entry, long size)
    {
        byte[] bytes = (byte[])entry.Bytes.Clone();
        Span<byte> field = bytes.AsSpan(entry.HeaderOffset + 124, 12);
        if (size < (1L << 33))
        {
            Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0')).CopyTo(field);
            field[11] = 0;
        }
        else
        {
            // GNU base-256: a set high bit, then the size big-endian.
            field.Clear();
            field[0] = 0x80;
            for (int i = 11; i >= 4; i--, size >>= 8)
            {
                field[i] = (byte)size;
            }
        }

        Reseal(bytes.AsSpan(entry.HeaderOffset, Block));
        return entry with { Bytes = bytes };
    }

    /// <summary>Writes the header's checksum field for its current bytes, as tar does.</summary>
    public static void Reseal(Span<byte> header)
    {
        header.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in header)
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0')).CopyTo(header.Slice(148, 6));
        header[154] = 0;
        header[155] = (byte)' ';
    }

    /// <summary>The size of <paramref name="entry"/>'s data, as its own header's size field declares it.</summary>
    public static long DataSize(Entry entry) => ReadOctal(entry.Bytes.AsSpan(entry.HeaderOffset + 124, 12));

    private static long ReadOctal(ReadOnlySpan<byte> field)
    {
        long value = 0;
        foreach (byte b in field)
        {
            if (b is < (byte)'0' or > (byte)'7')
            {
                break;
            }

            value = (value * 8) + (b - '0');
        }

        return value;
    }
}
