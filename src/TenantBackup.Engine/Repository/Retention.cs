using System.Globalization;

namespace TenantBackup.Engine.Repository;

/// <summary>What retention needs to know of a backup.</summary>
internal sealed record RetentionCandidate(
    string Id,
    string Tenant,
    DateTimeOffset CreatedAt,
    string Kind,
    string Status,
    string? LastVerifyResult)
{
    /// <summary>
    /// Restorable as far as anyone knows: the file is there and its last verification, if any, found it valid.
    /// Verification results other than <c>Valid</c> (<c>Corrupt</c>, <c>Missing</c>, <c>Unreadable</c>...) count as failed.
    /// </summary>
    public bool IsValid => string.Equals(Status, BackupStatus.Available, StringComparison.Ordinal)
        && (LastVerifyResult is null || string.Equals(LastVerifyResult, "Valid", StringComparison.OrdinalIgnoreCase));
}

/// <summary>One backup with the action retention chose and why.</summary>
internal sealed record RetentionOutcome(RetentionCandidate Backup, PruneAction Action, IReadOnlyList<string> Reasons);

/// <summary>
/// Retention as a pure function of the backups and the rules, per tenant, so that a dry run and the real prune decide
/// alike and tests need no repository. Pre-restore backups count like any other backup of their tenant.
/// </summary>
internal static class Retention
{
    /// <summary>The reason that protects the tenant's newest valid backup.</summary>
    public const string NewestValid = "newest valid backup of the tenant";

    /// <summary>
    /// Applies <paramref name="policy"/> to each tenant's backups as of <paramref name="now"/>. Every result carries at
    /// least one reason. Without <paramref name="force"/>, a tenant's newest valid backup is always kept.
    /// Results are grouped by tenant, newest first.
    /// </summary>
    public static IReadOnlyList<RetentionOutcome> Apply(
        IEnumerable<RetentionCandidate> backups,
        RetentionPolicy policy,
        DateTimeOffset now,
        bool force)
    {
        policy.Validate();
        return ByTenantNewestFirst(backups)
            .SelectMany(tenant => ApplyToTenant(tenant, policy, now, force))
            .ToList();
    }

    /// <summary>
    /// Removes exactly the backups named in <paramref name="ids"/>, protecting each tenant's newest valid one unless forced.
    /// </summary>
    public static IReadOnlyList<RetentionOutcome> Select(
        IEnumerable<RetentionCandidate> backups,
        IReadOnlySet<string> ids,
        bool force)
    {
        var results = new List<RetentionOutcome>();
        foreach (var tenant in ByTenantNewestFirst(backups))
        {
            var newestValid = tenant.FirstOrDefault(b => b.IsValid);
            foreach (var backup in tenant.Where(b => ids.Contains(b.Id)))
            {
                results.Add(!force && backup == newestValid
                    ? new(backup, PruneAction.Keep, [NewestValid + " (use -Force / --force to remove it)"])
                    : new(backup, PruneAction.Remove, ["asked for by id"]));
            }
        }

        return results;
    }

    private static IEnumerable<List<RetentionCandidate>> ByTenantNewestFirst(IEnumerable<RetentionCandidate> backups) =>
        backups
            .GroupBy(b => b.Tenant, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            // Ids are time-sortable, so they order backups taken in the same instant.
            .Select(g => g.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList());

    private static IEnumerable<RetentionOutcome> ApplyToTenant(
        List<RetentionCandidate> newestFirst,
        RetentionPolicy policy,
        DateTimeOffset now,
        bool force)
    {
        var reasons = newestFirst.Select(_ => new List<string>()).ToList();
        if (policy.KeepLast is { } last)
        {
            for (var i = 0; i < Math.Min(last, newestFirst.Count); i++)
            {
                reasons[i].Add($"last {last}");
            }
        }

        KeepNewestPerPeriod(newestFirst, reasons, policy.KeepDaily, "daily", t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        KeepNewestPerPeriod(newestFirst, reasons, policy.KeepWeekly, "weekly", IsoWeek);
        KeepNewestPerPeriod(newestFirst, reasons, policy.KeepMonthly, "monthly", t => t.ToString("yyyy-MM", CultureInfo.InvariantCulture));

        var cutoff = policy.OlderThan is { } age ? now - age : (DateTimeOffset?)null;
        var newestValid = force ? null : newestFirst.FirstOrDefault(b => b.IsValid);
        for (var i = 0; i < newestFirst.Count; i++)
        {
            var backup = newestFirst[i];
            if (cutoff is not null && backup.CreatedAt >= cutoff)
            {
                reasons[i].Add($"newer than {Age(policy.OlderThan!.Value)}");
            }

            if (backup == newestValid)
            {
                reasons[i].Add(NewestValid);
            }

            if (reasons[i].Count > 0)
            {
                yield return new(backup, PruneAction.Keep, reasons[i]);
                continue;
            }

            var why = cutoff is null ? "no keep rule keeps it"
                : policy.HasKeepRule ? $"older than {Age(policy.OlderThan!.Value)} and no keep rule keeps it"
                : $"older than {Age(policy.OlderThan!.Value)}";
            yield return new(backup, PruneAction.Remove, [why]);
        }
    }

    // restic's rule: walking newest first, the first backup seen in a period is that period's newest; keep it, until
    // `count` periods that have backups are covered. Periods without backups do not count.
    private static void KeepNewestPerPeriod(
        List<RetentionCandidate> newestFirst,
        List<List<string>> reasons,
        int? count,
        string rule,
        Func<DateTime, string> period)
    {
        if (count is not { } remaining)
        {
            return;
        }

        string? current = null;
        for (var i = 0; i < newestFirst.Count && remaining > 0; i++)
        {
            var key = period(newestFirst[i].CreatedAt.UtcDateTime);
            if (string.Equals(key, current, StringComparison.Ordinal))
            {
                continue;
            }

            current = key;
            reasons[i].Add($"{rule} {key}");
            remaining--;
        }
    }

    private static string IsoWeek(DateTime t) => $"{ISOWeek.GetYear(t):D4}-W{ISOWeek.GetWeekOfYear(t):D2}";

    /// <summary>An age as operators write it: <c>30d</c>, <c>12h</c>, <c>15m</c>, else <c>d.hh:mm:ss</c>.</summary>
    internal static string Age(TimeSpan age) => age switch
    {
        _ when age.Ticks % TimeSpan.TicksPerDay == 0 => $"{age.Days}d",
        _ when age.Ticks % TimeSpan.TicksPerHour == 0 => $"{(long)age.TotalHours}h",
        _ when age.Ticks % TimeSpan.TicksPerMinute == 0 => $"{(long)age.TotalMinutes}m",
        _ => age.ToString("c", CultureInfo.InvariantCulture),
    };
}
