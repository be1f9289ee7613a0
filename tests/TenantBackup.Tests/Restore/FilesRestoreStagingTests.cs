using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Internal;
using TenantBackup.Engine.Logging;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Archive;
using TenantBackup.Tests.Faults;
using Xunit;
using static TenantBackup.Tests.Restore.FilesRestoreSupport;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// The staging folders a restore killed before its swap leaves: recorded as the tenant's, removed by the next restore of
/// that tenant (under its lock) unless a swap journal names them; nothing else beside the tenant folder is touched.
/// </summary>
public sealed class FilesRestoreStagingTests : IDisposable
{
    private static readonly FilesRestore.StagingOwner Owner = new("PostgreSQL db1:5432/app", "tenant_id", "42");

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Live => _temp.File("live/tenant-42");

    private string Parent => _temp.File("live");

    [Fact]
    public async Task A_restore_records_its_staging_folder_as_the_tenants_and_drops_the_record_with_the_folder()
    {
        string archive = await WriteArchiveAsync(_temp, Compression.Zstd, CreateSource(_temp.File("source")));
        Directory.CreateDirectory(Parent);

        using (await ExtractAsync(archive, Live, Owner))
        {
            Assert.Equal([$"tenant-42.restore-{Id8}", $"tenant-42.restore-{Id8}.owner"], Names(Parent));
            var record = JsonSerializer.Deserialize<FilesRestore.OwnerRecord>(
                await File.ReadAllTextAsync(Path.Combine(Parent, $"tenant-42.restore-{Id8}.owner")), Json.Options)!;
            Assert.Equal((Owner.Database, Owner.TenantColumn, Owner.Tenant), (record.Database, record.TenantColumn, record.Tenant));
            Assert.Equal((Environment.MachineName, Environment.ProcessId), (record.Host, record.ProcessId));
        }

        Assert.Empty(Names(Parent));

        using (var files = await ExtractAsync(archive, Live, Owner))
        {
            files.SwapIn();
            files.Complete();
        }

        Assert.Equal(["tenant-42"], Names(Parent));
    }

    [Fact]
    public async Task The_tenants_abandoned_staging_folder_is_removed_with_a_warning_naming_it()
    {
        string archive = await WriteArchiveAsync(_temp, Compression.Zstd, CreateSource(_temp.File("source")));
        Abandon(await ExtractAsync(archive, Live, Owner));
        Abandon(await ExtractAsync(archive, Live, Owner));
        string staging = Path.Combine(Parent, $"tenant-42.restore-{Id8}");
        Assert.Equal(
            [
                $"tenant-42.restore-{Id8}", $"tenant-42.restore-{Id8}-2", $"tenant-42.restore-{Id8}-2.owner",
                $"tenant-42.restore-{Id8}.owner",
            ],
            Names(Parent));
        var log = new WarningLog();

        FilesRestore.RemoveAbandonedStaging(Targets(), Owner, EngineLogger.For(log));

        Assert.Empty(Names(Parent));
        Assert.Equal(2, log.Warnings.Count);
        Assert.True(log.Has($"Removed {staging}, the staging folder of a restore of tenant tenant_id = 42"), log.ToString());
        Assert.True(log.Has($"Removed {staging}-2,"), log.ToString());
    }

    [Fact]
    public async Task A_staging_folder_with_a_swap_journal_is_left_to_the_journal()
    {
        string archive = await WriteArchiveAsync(_temp, Compression.Zstd, CreateSource(_temp.File("source")));
        Abandon(await ExtractAsync(archive, Live, Owner));
        string staging = Path.Combine(Parent, $"tenant-42.restore-{Id8}");
        await File.WriteAllTextAsync(staging + ".swap", "{}");
        var before = Names(Parent);
        var log = new WarningLog();

        FilesRestore.RemoveAbandonedStaging(Targets(), Owner, EngineLogger.For(log));

        Assert.Equal(before, Names(Parent));
        Assert.NotEmpty(Files(staging));
        Assert.Empty(log.Warnings);
    }

    [Theory]
    [InlineData("PostgreSQL db2:5432/app", "tenant_id", "42")] // another server
    [InlineData("PostgreSQL db1:5432/app", "tenant_id", "43")] // another tenant, restored to the same folder
    [InlineData("PostgreSQL db1:5432/app", "account_id", "42")] // another tenant column
    public async Task A_staging_folder_of_another_tenant_or_database_is_left_alone(string database, string column, string tenant)
    {
        string archive = await WriteArchiveAsync(_temp, Compression.Zstd, CreateSource(_temp.File("source")));
        Abandon(await ExtractAsync(archive, Live, new FilesRestore.StagingOwner(database, column, tenant)));
        var before = Names(Parent);
        var log = new WarningLog();

        FilesRestore.RemoveAbandonedStaging(Targets(), Owner, EngineLogger.For(log));

        Assert.Equal(before, Names(Parent));
        Assert.NotEmpty(Files(Path.Combine(Parent, $"tenant-42.restore-{Id8}")));
        Assert.Empty(log.Warnings);
    }

    [Fact]
    public async Task Siblings_that_are_not_the_tenants_recorded_staging_folders_are_never_touched()
    {
        string archive = await WriteArchiveAsync(_temp, Compression.Zstd, CreateSource(_temp.File("source")));
        Directory.CreateDirectory(Live);
        await File.WriteAllTextAsync(Path.Combine(Live, "live.txt"), "live");
        string record = OwnerRecord();
        string[] siblings =
        [
            "tenant-42.restore-notes", // not a staging name, even with a record naming the tenant
            "tenant-42-x",
            "tenant-42.restore-0000abce", // a staging name without a record: an earlier version's, or anyone's
            "tenant-42.restore-0000abcf", // a record cut short by the kill
            "tenant-42.pre-restore-20260101T000000Z",
            "tenant-43.restore-0000abcd", // another folder's
        ];
        foreach (string sibling in siblings)
        {
            Directory.CreateDirectory(Path.Combine(Parent, sibling));
            await File.WriteAllTextAsync(Path.Combine(Parent, sibling, "keep.txt"), sibling);
        }

        await File.WriteAllTextAsync(Path.Combine(Parent, "tenant-42.restore-notes.owner"), record);
        await File.WriteAllTextAsync(Path.Combine(Parent, "tenant-42.restore-0000abcf.owner"), record[..(record.Length / 2)]);
        await File.WriteAllTextAsync(Path.Combine(Parent, "tenant-43.restore-0000abcd.owner"), record);
        var before = Names(Parent);
        var log = new WarningLog();

        FilesRestore.RemoveAbandonedStaging(Targets(), Owner, EngineLogger.For(log));

        Assert.Equal(before, Names(Parent));
        Assert.All(siblings, s => Assert.Equal(s, File.ReadAllText(Path.Combine(Parent, s, "keep.txt"))));
        Assert.Equal("live", File.ReadAllText(Path.Combine(Live, "live.txt")));
        Assert.Empty(log.Warnings);

        // The restore itself still works beside them, and leaves them as they were.
        using (var files = await ExtractAsync(archive, Live, Owner))
        {
            files.SwapIn();
            files.Complete();
        }

        Assert.Equal(before, Names(Parent));
    }

    [Fact]
    public async Task A_link_in_place_of_a_recorded_staging_folder_is_not_followed()
    {
        string elsewhere = _temp.File("elsewhere");
        Directory.CreateDirectory(elsewhere);
        await File.WriteAllTextAsync(Path.Combine(elsewhere, "precious.txt"), "keep");
        Directory.CreateDirectory(Parent);
        string staging = Path.Combine(Parent, $"tenant-42.restore-{Id8}");
        Directory.CreateSymbolicLink(staging, elsewhere);
        await File.WriteAllTextAsync(staging + ".owner", OwnerRecord());

        FilesRestore.RemoveAbandonedStaging(Targets(), Owner, EngineLogger.For(new WarningLog()));

        Assert.Equal("keep", File.ReadAllText(Path.Combine(elsewhere, "precious.txt")));
        Assert.NotNull(new DirectoryInfo(staging).LinkTarget);
    }

    private IReadOnlyList<FileRestoreTarget> Targets() =>
        FilesRestore.Destinations([new() { Source = "/anywhere", Entry = "files/01/" }], Live);

    /// <summary>What a kill leaves: the staging folder and its record, as a process that never got to dispose them.</summary>
    private static void Abandon(FilesRestore files) => GC.KeepAlive(files);

    /// <summary>A record naming <see cref="Owner"/>, as a restore of this tenant writes it.</summary>
    private static string OwnerRecord() => JsonSerializer.Serialize(
        new FilesRestore.OwnerRecord(Owner.Database, Owner.TenantColumn, Owner.Tenant, "host", 1, DateTimeOffset.UtcNow), Json.Options);
}
