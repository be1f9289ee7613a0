using System.Globalization;

namespace TenantBackup.Cli;

/// <summary>
/// Durations on the command line: <c>90</c> (seconds), <c>1500ms</c>, <c>90s</c>, <c>5m</c>, <c>2h</c>, <c>30d</c>,
/// or <c>00:01:30</c>.
/// </summary>
internal static class Durations
{
    /// <summary>What the help text says a duration looks like.</summary>
    public const string Forms = "seconds (90), a number with ms/s/m/h/d (5m), or hh:mm:ss";

    /// <summary>Parses <paramref name="text"/>; false when it is none of the accepted forms or is negative.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var (number, unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ when text.EndsWith('d') || text.EndsWith('D') => (text[..^1], 86400.0),
            _ => (text, 1.0),
        };

        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        var seconds = amount * unit;
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds > TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }
}
