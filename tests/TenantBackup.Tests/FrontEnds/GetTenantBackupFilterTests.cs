using TenantBackup.Engine;
using TenantBackup.PowerShell.Commands;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>Get-TenantBackup's filters, through its pure Filter and UnmatchedIds methods.</summary>
public class GetTenantBackupFilterTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Oldest first, as BackupRepository.List returns them.
    private static readonly BackupInfo[] Backups =
    [
        Backup("0001", "42", BackupKinds.Full, T0),
        Backup("0002", "7", BackupKinds.Full, T0.AddHours(1)),
        Backup("0003", "42", BackupKinds.PreRestore, T0.AddHours(2)),
        Backup("0004", "42", BackupKinds.Full, T0.AddHours(3)),
        Backup("0005", "7", BackupKinds.Full, T0.AddHours(3)),
        Backup("0006", "7", BackupKinds.Full, T0.AddHours(3)),
    ];

    [Fact]
    public void NoFiltersReturnEverythingInOrder()
    {
        Assert.Equal(Ids(Backups), Ids(GetTenantBackupCommand.Filter(Backups, null, null, null, latest: false)));
        Assert.Equal(Ids(Backups), Ids(GetTenantBackupCommand.Filter(Backups, [], [], [], latest: false)));
    }

    [Fact]
    public void TenantsMatchExactly()
    {
        Assert.Equal(["0001", "0003", "0004"], Ids(GetTenantBackupCommand.Filter(Backups, ["42"], null, null, latest: false)));
        Assert.Empty(GetTenantBackupCommand.Filter(Backups, ["4"], null, null, latest: false));
        Assert.Equal(6, GetTenantBackupCommand.Filter(Backups, ["42", "7"], null, null, latest: false).Count);
    }

    [Fact]
    public void IdsMatchByWildcardIgnoringCase()
    {
        var withLetters = Backups.Append(Backup("01ABCDEF", "9", BackupKinds.Full, T0)).ToArray();

        Assert.Equal(["0005", "0006"], Ids(GetTenantBackupCommand.Filter(withLetters, null, ["000[56]"], null, latest: false)));
        Assert.Equal(["01ABCDEF"], Ids(GetTenantBackupCommand.Filter(withLetters, null, ["01abc*"], null, latest: false)));
        Assert.Equal(["0002"], Ids(GetTenantBackupCommand.Filter(withLetters, null, ["0002"], null, latest: false)));
    }

    [Fact]
    public void KindsFilter()
    {
        Assert.Equal(["0003"], Ids(GetTenantBackupCommand.Filter(Backups, null, null, [BackupKinds.PreRestore], latest: false)));
    }

    [Fact]
    public void LatestKeepsTheNewestOfEachTenantWithTheIdBreakingTies()
    {
        Assert.Equal(["0004", "0006"], Ids(GetTenantBackupCommand.Filter(Backups, null, null, null, latest: true)));
    }

    [Fact]
    public void LatestAppliesAfterTheOtherFilters()
    {
        Assert.Equal(["0003"], Ids(GetTenantBackupCommand.Filter(Backups, ["42"], null, [BackupKinds.PreRestore], latest: true)));
        Assert.Equal(["0001"], Ids(GetTenantBackupCommand.Filter(Backups, null, ["0001", "0002*"], null, latest: true)).Take(1));
    }

    [Fact]
    public void LiteralIdsThatMatchNothingAreReportedWildcardsAreNot()
    {
        var unmatched = GetTenantBackupCommand.UnmatchedIds(Backups, null, ["0001", "9999", "8*"]);

        Assert.Equal(["9999"], unmatched);
    }

    [Fact]
    public void AnIdOfAnotherTenantDoesNotMatch()
    {
        Assert.Equal(["0002"], GetTenantBackupCommand.UnmatchedIds(Backups, ["42"], ["0002"]));
        Assert.Empty(GetTenantBackupCommand.UnmatchedIds(Backups, ["42"], null));
    }

    private static string[] Ids(IEnumerable<BackupInfo> backups) => backups.Select(b => b.Id).ToArray();

    internal static BackupInfo Backup(string id, string tenant, string kind, DateTimeOffset createdAt, string repository = "/repo") => new()
    {
        Id = id,
        Tenant = tenant,
        TenantColumn = "tenant_id",
        Kind = kind,
        CreatedAt = createdAt,
        Database = "app",
        TableCount = 3,
        RowCount = 1234,
        Size = 5_000_000,
        Status = "available",
        Path = $"{repository}/{tenant}-{id}.tar.zst",
        Repository = repository,
        Sha256 = new string('0', 64),
        Compression = "zstd",
    };
}
