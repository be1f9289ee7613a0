using System.Globalization;
using System.Management.Automation;

namespace TenantBackup.PowerShell.Internal;

/// <summary>
/// Lets a <see cref="TimeSpan"/> parameter take a number of seconds (<c>-LockTimeout 90</c>) as well as a TimeSpan
/// or its text (<c>-LockTimeout 00:01:30</c>); PowerShell alone would read <c>90</c> as 90 ticks.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class TimeSpanTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc/>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        var result = value switch
        {
            TimeSpan span => span,
            // PowerShell reads an unquoted 30d as the decimal number 30: taken as seconds, '-OlderThan 30d' would mean
            // 30 seconds. No one writes a decimal here on purpose, so it is refused.
            decimal => throw new ArgumentTransformationMetadataException(
                $"'{value}' arrived as a decimal number, which is what PowerShell makes of an unquoted 30d: quote it ('30d') " +
                "or give seconds (90) or a TimeSpan (00:01:30)."),
            int or long or short or byte or sbyte or ushort or uint or double or float
                => FromSeconds(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            string text => Parse(text),
            _ => throw new ArgumentTransformationMetadataException(
                $"Cannot convert '{value}' to a time span: give seconds (90) or a TimeSpan (00:01:30)."),
        };

        if (result < TimeSpan.Zero)
        {
            throw new ArgumentTransformationMetadataException($"The time span {result} is negative.");
        }

        return result;
    }

    private static TimeSpan FromSeconds(double seconds)
    {
        if (double.IsNaN(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds || seconds < TimeSpan.MinValue.TotalSeconds)
        {
            throw new ArgumentTransformationMetadataException($"{seconds} seconds is not a usable time span.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static TimeSpan Parse(string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return FromSeconds(seconds);
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        // The CLI's forms too, so '30d' means the same in both front ends; "ms" is tried before "s".
        var units = new (string Suffix, double Seconds)[] { ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400) };
        foreach (var (suffix, unit) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                return FromSeconds(amount * unit);
            }
        }

        throw new ArgumentTransformationMetadataException(
            $"Cannot convert '{text}' to a time span: give seconds (90), a number with ms/s/m/h/d (30d) or a TimeSpan (00:01:30).");
    }
}
