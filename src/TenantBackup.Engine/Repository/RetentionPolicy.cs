namespace TenantBackup.Engine.Repository;

/// <summary>
/// Which backups of each tenant to keep: restic's <c>forget --keep-*</c> rules plus an age limit. A backup is kept when
/// any rule keeps it. With keep rules, <see cref="OlderThan"/> narrows removal to backups older than the age; alone, it
/// removes every backup older than the age.
/// </summary>
public sealed class RetentionPolicy
{
    /// <summary>Keep the N newest backups.</summary>
    public int? KeepLast { get; init; }

    /// <summary>Keep the newest backup of each of the N most recent UTC days that have backups.</summary>
    public int? KeepDaily { get; init; }

    /// <summary>Keep the newest backup of each of the N most recent ISO weeks that have backups.</summary>
    public int? KeepWeekly { get; init; }

    /// <summary>Keep the newest backup of each of the N most recent months (UTC) that have backups.</summary>
    public int? KeepMonthly { get; init; }

    /// <summary>Only backups older than this age may be removed.</summary>
    public TimeSpan? OlderThan { get; init; }

    /// <summary>True when the policy has at least one rule.</summary>
    public bool HasRule => HasKeepRule || OlderThan is not null;

    /// <summary>True when a keep rule (not just the age) is given.</summary>
    internal bool HasKeepRule => KeepLast is not null || KeepDaily is not null || KeepWeekly is not null || KeepMonthly is not null;

    /// <summary>Refuses a policy without rules or with a negative count or age.</summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.InvalidArgument"/>.</exception>
    public void Validate()
    {
        if (!HasRule)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                "A retention policy needs at least one rule: KeepLast, KeepDaily, KeepWeekly, KeepMonthly or OlderThan; " +
                "to remove particular backups, give their ids.",
                null);
        }

        var counts = new[] { ("KeepLast", KeepLast), ("KeepDaily", KeepDaily), ("KeepWeekly", KeepWeekly), ("KeepMonthly", KeepMonthly) };
        foreach (var (name, value) in counts)
        {
            if (value < 0)
            {
                throw new TenantBackupException(ErrorCode.InvalidArgument, $"{name} must be 0 or more, not {value}.", value);
            }
        }

        if (OlderThan < TimeSpan.Zero)
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, $"OlderThan must not be negative, not {OlderThan}.", OlderThan);
        }
    }
}
