using System.Globalization;
using System.Text;
using TenantBackup.Engine;

namespace TenantBackup.Cli.Output;

/// <summary>The short human-readable form of results (without <c>--json</c>).</summary>
internal static class TextOutput
{
    private static readonly string[] _units = ["B", "KB", "MB", "GB", "TB", "PB"];

    /// <summary>A finished backup in three lines.</summary>
    public static string Backup(BackupInfo backup)
    {
        var culture = CultureInfo.CurrentCulture;
        var text = new StringBuilder();
        text.AppendLine(string.Format(
            culture,
            "Backed up tenant {0} ({1}) of database '{2}': {3:N0} tables, {4:N0} rows, {5} {6}.",
            backup.Tenant,
            backup.TenantColumn,
            backup.Database,
            backup.TableCount,
            backup.RowCount,
            Size(backup.Size),
            backup.Compression));
        text.AppendLine(string.Create(culture, $"Id:      {backup.Id}"));
        text.Append(string.Create(culture, $"Archive: {backup.Path}"));
        return text.ToString();
    }

    /// <summary>Backups as a table, oldest first; a sentence when there are none.</summary>
    public static string List(IReadOnlyList<BackupInfo> backups, string repository)
    {
        if (backups.Count == 0)
        {
            return $"No backups in {repository}.";
        }

        var culture = CultureInfo.CurrentCulture;
        string[] header = ["TENANT", "ID", "KIND", "CREATED", "SIZE", "ROWS", "STATUS"];
        var rows = backups.Select(b => new[]
        {
            b.Tenant,
            b.Id,
            b.Kind,
            b.CreatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", culture),
            Size(b.Size),
            b.RowCount.ToString("N0", culture),
            b.Status,
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => i is 4 or 5 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>Bytes for people: <c>512 B</c>, <c>1.5 KB</c>, <c>3.2 GB</c> (powers of 1024).</summary>
    public static string Size(long bytes)
    {
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.CurrentCulture, $"{bytes} B");
        }

        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < _units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.CurrentCulture, $"{value:0.0} {_units[unit]}");
    }
}
