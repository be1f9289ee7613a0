using System.Globalization;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Repository;

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
        if (backup.Encrypted)
        {
            text.AppendLine().Append(string.Create(culture, $"Key id:  {backup.KeyId} ({backup.Encryption})"));
        }

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
        var rows = backups.Select(b => new[]
        {
            b.Tenant,
            b.Id,
            b.Kind,
            b.CreatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", culture),
            Size(b.Size),
            b.RowCount.ToString("N0", culture),
            b.Status,
        });
        return Table(["TENANT", "ID", "KIND", "CREATED", "SIZE", "ROWS", "STATUS"], rows, firstRightAligned: 4, lastRightAligned: 5);
    }

    /// <summary>What a sync found: two lines per discrepancy (what, then the repair done or proposed) and a summary.</summary>
    public static string Sync(IReadOnlyList<IndexDiscrepancy> found, string repository, bool apply)
    {
        if (found.Count == 0)
        {
            return $"The index of {repository} agrees with its archives.";
        }

        var text = new StringBuilder();
        foreach (var d in found)
        {
            var who = d.Id is null ? "" : $" backup {d.Id}" + (d.Tenant is null ? "" : $" (tenant {d.Tenant})");
            text.AppendLine(CultureInfo.InvariantCulture, $"{d.Kind}{who}: {d.Path}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  {d.Detail}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(d.Applied ? "done" : apply ? "left" : "would")}: {d.Action}");
        }

        var repaired = found.Count(d => d.Applied);
        var counted = string.Create(
            CultureInfo.CurrentCulture, $"{found.Count:N0} {(found.Count == 1 ? "discrepancy" : "discrepancies")} in {repository}");
        text.Append(apply
            ? string.Create(CultureInfo.CurrentCulture, $"{counted}; {repaired:N0} repaired.")
            : $"{counted}; run with --apply to repair the index.");
        return text.ToString();
    }

    /// <summary>
    /// Prune decisions as a table (what goes, what stays and why), then a summary line; <paramref name="dryRun"/> says
    /// what would happen.
    /// </summary>
    public static string Prune(IReadOnlyList<PruneDecision> decisions, bool dryRun)
    {
        if (decisions.Count == 0)
        {
            return "No backups to consider.";
        }

        var rows = decisions.Select(d => new[]
        {
            d.Action == PruneAction.Keep ? "keep" : dryRun ? "remove" : d.Removed ? "removed" : "FAILED",
            d.Tenant,
            d.Id,
            d.Kind,
            d.CreatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.CurrentCulture),
            string.Join("; ", d.Reasons),
        });
        var table = Table(["ACTION", "TENANT", "ID", "KIND", "CREATED", "REASONS"], rows, firstRightAligned: 6, lastRightAligned: -1);
        var kept = decisions.Count(d => d.Action == PruneAction.Keep);
        var removing = decisions.Count - kept;
        var summary = dryRun
            ? $"Dry run: would remove {removing} and keep {kept} backup(s); nothing was changed."
            : $"Removed {decisions.Count(d => d.Removed)} and kept {kept} backup(s)." +
              (decisions.Any(d => d.Action == PruneAction.Remove && !d.Removed) ? " Some could not be removed: see the errors." : "");
        return table + Environment.NewLine + summary;
    }

    /// <summary>A finished restore: one summary line, the restore and undo ids, then one line per table.</summary>
    public static string Restore(RestoreResult result)
    {
        var culture = CultureInfo.CurrentCulture;
        var text = new StringBuilder();
        text.AppendLine(string.Format(
            culture,
            "Restored backup {0} (tenant {1}) into tenant {2} of {3}, mode {4}: {5:N0} rows inserted, {6:N0} updated, {7:N0} deleted, "
                + "{8:N0} remapped, {9:N0} files, in {10}.",
            result.BackupId,
            result.Tenant,
            result.TargetTenant,
            result.Database,
            Lower(result.Mode),
            result.Inserted,
            result.Updated,
            result.Deleted,
            result.Remapped,
            result.FilesRestored,
            Elapsed(result.Duration)));
        text.AppendLine(string.Create(culture, $"Restore id:         {result.Id}"));
        text.AppendLine(result.PreRestoreBackupId is { } undo
            ? $"Pre-restore backup: {undo} (restore it to undo this restore)"
            : "Pre-restore backup: none");
        text.AppendLine(string.Create(culture, $"Archive:            {result.Path}"));
        if (result.RootValues.Count > 0)
        {
            text.AppendLine($"Root row set:       {RootValues(result.RootValues)}");
        }

        text.Append(Table(
            ["TABLE", "ARCHIVE ROWS", "INSERTED", "UPDATED", "DELETED", "REMAPPED"],
            result.Tables.Select(t => new[] { t.Table, N(t.ArchiveRows), N(t.Inserted), N(t.Updated), N(t.Deleted), N(t.Remapped) }),
            firstRightAligned: 1,
            lastRightAligned: 5));
        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// What a restore would do: per table rows to insert, update, delete and remap; key collisions; foreign key cycles and
    /// how each is broken; schema differences; files; and what would stop it.
    /// </summary>
    public static string Plan(RestorePlan plan)
    {
        var text = new StringBuilder();
        text.AppendLine($"Restore plan: backup {plan.BackupId} (tenant {plan.Tenant}) into tenant {plan.TargetTenant} of {plan.Database}.");
        text.AppendLine($"Archive:      {plan.Path}");
        text.AppendLine(
            $"Mode:         {Lower(plan.Mode)}; key collisions: {Lower(plan.KeyCollision)}; "
            + $"safety backup first: {(plan.PreRestoreBackup ? "yes" : "no")}");
        if (plan.RootValues.Count > 0)
        {
            text.AppendLine($"Root row set: {RootValues(plan.RootValues)}");
        }

        if (plan.Tables.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(Table(
                ["TABLE", "ARCHIVE ROWS", "INSERT", "UPDATE", "DELETE", "REMAP"],
                plan.Tables.Select(t => new[] { t.Table, N(t.ArchiveRows), N(t.Insert), N(t.Update), N(t.Delete), N(t.Remap) }),
                firstRightAligned: 1,
                lastRightAligned: 5));
        }

        Section(text, "Key collisions", plan.Collisions.Select(c => c.ToString()));
        Section(text, "Foreign key cycles", plan.Cycles.Select(Cycle));
        Section(text, "Schema differences", plan.SchemaDifferences.Select(d => (d.Blocking ? "[blocking] " : string.Empty) + d.Message));
        if (plan.Files > 0)
        {
            Section(
                text,
                string.Create(CultureInfo.CurrentCulture, $"Files ({plan.Files:N0})"),
                plan.FilesDestinations.Count > 0 ? plan.FilesDestinations : ["(no destination)"]);
        }

        Section(text, "Problems", plan.Problems);
        text.AppendLine();
        text.Append(plan.CanRestore
            ? "The restore can proceed."
            : string.Create(CultureInfo.CurrentCulture, $"The restore would be refused: {plan.Problems.Count} problem(s) above."));
        return text.ToString();
    }

    /// <summary><c>name = 'Acme (staging)', slug = 'acme-staging'</c>: quoted, so that an empty string and NULL differ.</summary>
    private static string RootValues(IReadOnlyDictionary<string, string?> values) =>
        string.Join(
            ", ",
            values.OrderBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => $"{v.Key} = {(v.Value is null ? "NULL" : "'" + v.Value.Replace("'", "''", StringComparison.Ordinal) + "'")}"));

    /// <summary>A duration for people: <c>850 ms</c>, <c>2.3 s</c>, <c>4 min 05 s</c>, <c>26 h 03 min</c>.</summary>
    public static string Elapsed(TimeSpan duration)
    {
        var culture = CultureInfo.CurrentCulture;
        return duration.TotalSeconds switch
        {
            < 1 => string.Create(culture, $"{duration.TotalMilliseconds:0} ms"),
            < 60 => string.Create(culture, $"{duration.TotalSeconds:0.0} s"),
            < 3600 => string.Create(culture, $"{(int)duration.TotalMinutes} min {duration.Seconds:00} s"),
            _ => string.Create(culture, $"{(int)duration.TotalHours} h {duration.Minutes:00} min"),
        };
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

    // A cycle on one line: its tables, then each edge and how the restore breaks it.
    private static string Cycle(ScopeCycle cycle)
    {
        var edges = cycle.Edges.Select(e => $"{e.Constraint} ({e.Table} -> {e.References}): {e.BreakBy ?? "kept in order"}");
        var line = $"{string.Join(" -> ", cycle.Tables)}; {string.Join("; ", edges)}";
        return cycle.Breakable ? line : line + " [cannot be broken: every foreign key is NOT NULL and not deferrable]";
    }

    private static void Section(StringBuilder text, string title, IEnumerable<string> lines)
    {
        var items = lines.ToList();
        if (items.Count == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine(title + ":");
        foreach (var item in items)
        {
            text.AppendLine("  " + item);
        }
    }

    // Columns separated by two spaces; the columns from firstRightAligned to lastRightAligned (numbers) aligned right.
    private static string Table(string[] header, IEnumerable<string[]> rows, int firstRightAligned, int lastRightAligned)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            var cells = row.Select((cell, i) => i >= firstRightAligned && i <= lastRightAligned
                ? cell.PadLeft(widths[i])
                : cell.PadRight(widths[i]));
            text.AppendLine(string.Join("  ", cells).TrimEnd());
        }

        return text.ToString().TrimEnd();
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.CurrentCulture);

    private static string Lower<T>(T value)
        where T : struct, Enum
        => value.ToString().ToLowerInvariant();
}
