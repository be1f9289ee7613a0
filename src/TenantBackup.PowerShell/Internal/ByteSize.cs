using System.Globalization;

namespace TenantBackup.PowerShell.Internal;

/// <summary>Byte counts for people: <c>512 B</c>, <c>1.5 KB</c>, <c>3.2 GB</c> (powers of 1024).</summary>
internal static class ByteSize
{
    private static readonly string[] _units = ["B", "KB", "MB", "GB", "TB", "PB"];

    /// <summary>Formats <paramref name="bytes"/> with one decimal above 1 KB, in the current culture.</summary>
    public static string Format(long bytes)
    {
        if (bytes < 1024)
        {
            return string.Format(CultureInfo.CurrentCulture, "{0} B", bytes);
        }

        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < _units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Format(CultureInfo.CurrentCulture, "{0:0.0} {1}", value, _units[unit]);
    }
}
