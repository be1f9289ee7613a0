using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using Xunit;

namespace TenantBackup.Tests.Repository;

/// <summary>
/// Retention over a generated history of tenant 7: one backup a day at 02:00 UTC from 2025-10-17 to 2026-11-20 (400 days),
/// three (02:00, 14:00, 22:00) on the 1st and the 20th of each month, none in August 2026 and none on 2026-11-17 and
/// 2026-11-18. 2026-11-20 is a Friday in ISO week 2026-W47. Ids are <c>yyyyMMdd-HH</c>. The expected lists are worked
/// out by hand from that description and a calendar.
/// </summary>
public sealed class RetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

    private static readonly IReadOnlyList<RetentionCandidate> History = Generate().ToList();

    private static IEnumerable<RetentionCandidate> Generate()
    {
        for (var day = new DateTime(2025, 10, 17); day <= new DateTime(2026, 11, 20); day = day.AddDays(1))
        {
            if ((day.Year == 2026 && day.Month == 8) || day == new DateTime(2026, 11, 17) || day == new DateTime(2026, 11, 18))
            {
                continue;
            }

            int[] hours = day.Day is 1 or 20 ? [2, 14, 22] : [2];
            foreach (var hour in hours)
            {
                yield return Candidate($"{day:yyyyMMdd}-{hour:D2}", "7", new DateTimeOffset(day.AddHours(hour), TimeSpan.Zero));
            }
        }
    }

    private static RetentionCandidate Candidate(
        string id,
        string tenant,
        DateTimeOffset createdAt,
        string kind = BackupKinds.Full,
        string status = BackupStatus.Available,
        string? verified = null) => new(id, tenant, createdAt, kind, status, verified);

    private static string[] Kept(IEnumerable<RetentionOutcome> outcomes) =>
        outcomes.Where(o => o.Action == PruneAction.Keep).Select(o => o.Backup.Id).Order(StringComparer.Ordinal).ToArray();

    private static string[] Sorted(params string[] ids) => ids.Order(StringComparer.Ordinal).ToArray();

    private static IReadOnlyList<RetentionOutcome> Apply(RetentionPolicy policy, bool force = false) =>
        Retention.Apply(History, policy, Now, force);

    [Fact]
    public void The_history_spans_400_days_with_its_gaps()
    {
        Assert.Equal("20251017-02", History[0].Id);
        Assert.Equal("20261120-22", History[^1].Id);
        Assert.DoesNotContain(History, c => c.Id.StartsWith("202608", StringComparison.Ordinal));
        Assert.Equal(400 - 31 - 2, History.Select(c => c.CreatedAt.Date).Distinct().Count());
    }

    [Fact]
    public void Keep_last_keeps_the_newest_backups_across_days_and_gaps()
    {
        var outcomes = Apply(new RetentionPolicy { KeepLast = 5 });

        Assert.Equal(Sorted("20261120-22", "20261120-14", "20261120-02", "20261119-02", "20261116-02"), Kept(outcomes));
        Assert.Equal(History.Count, outcomes.Count);
        Assert.Equal(["last 5", Retention.NewestValid], outcomes.Single(o => o.Backup.Id == "20261120-22").Reasons);
        Assert.Equal(["no keep rule keeps it"], outcomes.Single(o => o.Backup.Id == "20261115-02").Reasons);
    }

    [Fact]
    public void Keep_daily_keeps_the_newest_of_each_of_the_last_days_that_have_backups()
    {
        var outcomes = Apply(new RetentionPolicy { KeepDaily = 7 });

        Assert.Equal(
            Sorted("20261120-22", "20261119-02", "20261116-02", "20261115-02", "20261114-02", "20261113-02", "20261112-02"),
            Kept(outcomes));
        Assert.Equal(["daily 2026-11-19"], outcomes.Single(o => o.Backup.Id == "20261119-02").Reasons);
    }

    [Fact]
    public void Keep_weekly_keeps_the_newest_of_each_iso_week()
    {
        var outcomes = Apply(new RetentionPolicy { KeepWeekly = 4 });

        // W47 (Mon 16 - Fri 20), W46 (9 - Sun 15), W45 (2 - Sun 8), W44 (Oct 26 - Sun Nov 1, three backups on the 1st).
        Assert.Equal(Sorted("20261120-22", "20261115-02", "20261108-02", "20261101-22"), Kept(outcomes));
        Assert.Equal(["weekly 2026-W46"], outcomes.Single(o => o.Backup.Id == "20261115-02").Reasons);
    }

    [Fact]
    public void Keep_monthly_skips_months_without_backups()
    {
        var outcomes = Apply(new RetentionPolicy { KeepMonthly = 12 });

        Assert.Equal(
            Sorted(
                "20261120-22", "20261031-02", "20260930-02", "20260731-02", "20260630-02", "20260531-02",
                "20260430-02", "20260331-02", "20260228-02", "20260131-02", "20251231-02", "20251130-02"),
            Kept(outcomes));
        Assert.Equal(["monthly 2026-07"], outcomes.Single(o => o.Backup.Id == "20260731-02").Reasons);
    }

    [Fact]
    public void Combined_rules_keep_what_any_rule_keeps_with_every_reason()
    {
        var outcomes = Apply(new RetentionPolicy { KeepLast = 2, KeepDaily = 3, KeepWeekly = 2, KeepMonthly = 3 });

        Assert.Equal(
            Sorted("20261120-22", "20261120-14", "20261119-02", "20261116-02", "20261115-02", "20261031-02", "20260930-02"),
            Kept(outcomes));
        Assert.Equal(
            ["last 2", "daily 2026-11-20", "weekly 2026-W47", "monthly 2026-11", Retention.NewestValid],
            outcomes.Single(o => o.Backup.Id == "20261120-22").Reasons);
    }

    [Fact]
    public void Older_than_alone_removes_everything_older()
    {
        var outcomes = Apply(new RetentionPolicy { OlderThan = TimeSpan.FromDays(5) });

        Assert.Equal(Sorted("20261116-02", "20261119-02", "20261120-02", "20261120-14", "20261120-22"), Kept(outcomes));
        Assert.Equal(["older than 5d"], outcomes.Single(o => o.Backup.Id == "20261115-02").Reasons);
        Assert.Equal(["newer than 5d"], outcomes.Single(o => o.Backup.Id == "20261116-02").Reasons);

        var month = Apply(new RetentionPolicy { OlderThan = TimeSpan.FromDays(30) });
        Assert.Equal(PruneAction.Remove, month.Single(o => o.Backup.Id == "20261021-02").Action);
        Assert.Equal(PruneAction.Keep, month.Single(o => o.Backup.Id == "20261022-02").Action);
    }

    [Fact]
    public void Older_than_with_keep_rules_removes_only_old_backups_no_rule_keeps()
    {
        var outcomes = Apply(new RetentionPolicy { OlderThan = TimeSpan.FromDays(5), KeepMonthly = 3 });

        Assert.Equal(
            Sorted("20261116-02", "20261119-02", "20261120-02", "20261120-14", "20261120-22", "20261031-02", "20260930-02"),
            Kept(outcomes));
        Assert.Equal(["older than 5d and no keep rule keeps it"], outcomes.Single(o => o.Backup.Id == "20261030-02").Reasons);
    }

    [Fact]
    public void The_newest_valid_backup_is_kept_even_when_every_rule_lets_it_go()
    {
        var outcomes = Retention.Apply(History, new RetentionPolicy { OlderThan = TimeSpan.FromDays(30) }, Now.AddYears(1), force: false);

        Assert.Equal(["20261120-22"], Kept(outcomes));
        Assert.Equal([Retention.NewestValid], outcomes.Single(o => o.Action == PruneAction.Keep).Reasons);

        var forced = Retention.Apply(History, new RetentionPolicy { OlderThan = TimeSpan.FromDays(30) }, Now.AddYears(1), force: true);
        Assert.Empty(Kept(forced));
    }

    [Fact]
    public void When_the_newest_backups_are_corrupt_or_failed_verification_the_newest_valid_one_is_kept()
    {
        var history = History
            .Select(c => c.Id switch
            {
                "20261120-22" => c with { Status = BackupStatus.Corrupt },
                "20261120-14" => c with { LastVerifyResult = "Corrupt" },
                "20261120-02" => c with { LastVerifyResult = "Valid" },
                _ => c,
            })
            .ToList();

        var outcomes = Retention.Apply(history, new RetentionPolicy { KeepLast = 1 }, Now, force: false);
        Assert.Equal(Sorted("20261120-22", "20261120-02"), Kept(outcomes));
        Assert.Equal([Retention.NewestValid], outcomes.Single(o => o.Backup.Id == "20261120-02").Reasons);

        var forced = Retention.Apply(history, new RetentionPolicy { KeepLast = 1 }, Now, force: true);
        Assert.Equal(["20261120-22"], Kept(forced));
    }

    [Fact]
    public void Each_tenant_is_pruned_on_its_own_and_pre_restore_backups_count_like_the_others()
    {
        var t0 = new DateTimeOffset(2026, 11, 10, 2, 0, 0, TimeSpan.Zero);
        var other = new[]
        {
            Candidate("t8-a", "8", t0),
            Candidate("t8-b", "8", t0.AddDays(1), BackupKinds.PreRestore),
            Candidate("t8-c", "8", t0.AddDays(2), BackupKinds.PreRestore),
        };

        var outcomes = Retention.Apply(History.Concat(other), new RetentionPolicy { KeepLast = 1 }, Now, force: false);

        Assert.Equal(Sorted("20261120-22", "t8-c"), Kept(outcomes));
        Assert.Equal(["last 1", Retention.NewestValid], outcomes.Single(o => o.Backup.Id == "t8-c").Reasons);
        Assert.Equal(PruneAction.Remove, outcomes.Single(o => o.Backup.Id == "t8-b").Action);
    }

    [Fact]
    public void Removal_by_id_protects_the_newest_valid_backup_unless_forced()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal) { "20261120-22", "20251017-02" };

        var outcomes = Retention.Select(History, ids, force: false);
        Assert.Equal(["20261120-22"], Kept(outcomes));
        Assert.Equal(2, outcomes.Count);
        Assert.Equal(PruneAction.Remove, outcomes.Single(o => o.Backup.Id == "20251017-02").Action);

        Assert.Empty(Kept(Retention.Select(History, ids, force: true)));
    }

    [Fact]
    public void A_policy_without_rules_or_with_a_negative_count_is_refused()
    {
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<TenantBackupException>(() => Apply(new RetentionPolicy())).Code);
        Assert.Equal(
            ErrorCode.InvalidArgument, Assert.Throws<TenantBackupException>(() => Apply(new RetentionPolicy { KeepDaily = -1 })).Code);
    }
}
