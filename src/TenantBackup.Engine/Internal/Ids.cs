using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TenantBackup.Engine.Internal;

/// <summary>Backup ids: UUIDv7 (RFC 9562), so ids sort by creation time and never repeat, even within a millisecond.</summary>
internal static class Ids
{
    public static string NewId(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var milliseconds = (ulong)at.ToUnixTimeMilliseconds();
        Span<byte> time = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(time, milliseconds);
        time[2..].CopyTo(bytes);                       // 48-bit big-endian timestamp first
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));   // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));   // RFC 4122 variant
        var hex = Convert.ToHexString(bytes).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>The last eight hex digits: random, so two backups in the same second still get distinct file names.</summary>
    public static string Short(string id) => id[^8..];
}
