namespace TenantBackup.Tests.Hostile;

/// <summary>
/// zstd frames written by hand (RFC 8878), to say what no compressor would: a few kilobytes that expand to a gigabyte,
/// a frame that declares far more than it holds, a frame that asks for a 2 GiB window.
/// </summary>
internal static class ZstdFrames
{
    private const int MaxBlock = 128 * 1024;

    private static ReadOnlySpan<byte> Magic => [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>
    /// <paramref name="length"/> copies of <paramref name="value"/> in RLE blocks: four bytes per 128 KiB of output, so a
    /// gigabyte costs 32 KiB. <paramref name="declaredSize"/> is written as the frame's content size when given, and
    /// <paramref name="windowLog"/> sets the window the frame asks the decoder for.
    /// </summary>
    public static byte[] Rle(long length, byte value, long? declaredSize = null, int windowLog = 17)
    {
        var frame = new List<byte>(Magic.ToArray());
        // Frame header descriptor: content size field of 8 bytes when declared, no single segment, no checksum, no dictionary.
        frame.Add(declaredSize is null ? (byte)0x00 : (byte)0xC0);
        frame.Add((byte)((windowLog - 10) << 3));
        if (declaredSize is long declared)
        {
            frame.AddRange(BitConverter.GetBytes(declared));
        }

        long left = length;
        do
        {
            int block = (int)Math.Min(left, MaxBlock);
            left -= block;
            int header = (left == 0 ? 1 : 0) | (1 << 1) | (block << 3);
            frame.Add((byte)header);
            frame.Add((byte)(header >> 8));
            frame.Add((byte)(header >> 16));
            frame.Add(value);
        }
        while (left > 0);

        return [.. frame];
    }
}
