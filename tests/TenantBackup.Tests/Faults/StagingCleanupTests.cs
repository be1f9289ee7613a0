using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.Faults.RestoreKillTests;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// <c>kill -9</c> of <c>tenantbackup restore</c> with the tenant's files staged and no swap begun: the next restore of the
/// tenant removes the staging folder it left, restores the files, and touches nothing else beside the tenant folder.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StagingCleanupTests(PostgresFixture fixture)
{
    [Fact]
    public async Task The_next_restore_removes_the_killed_restores_staging_folder_and_nothing_else()
    {
        using var folder = new TempFolder();
        var repository = Path.Combine(folder.Path, "repo");
        var files = Path.Combine(folder.Path, "tenant-2-files");
        WriteFiles(files, new() { ["logo.txt"] = "v1", ["invoices/2025-001.txt"] = "invoice" });
        var restoredFiles = ReadFiles(files);
        var database = await fixture.CreateTenantDatabaseAsync();
        var connectionString = fixture.ConnectionStringFor(database);
        var backup = await new BackupEngine().BackupAsync(
            new BackupRequest { ConnectionString = connectionString, Tenant = "2", Repository = repository, IncludePaths = [files] },
            null,
            CancellationToken.None);
        WriteFiles(files, new() { ["logo.txt"] = "v2", ["new.txt"] = "added after the backup" });

        using (var paused = await PausedCli.StartAsync(
            ["restore", backup.Id, "--connection", connectionString, "--repository", repository, "--yes"], "restore.staged"))
        {
            var killed = await paused.KillAsync();
            Assert.True(killed.ExitCode != 0, killed.Describe());
        }

        var staging = Assert.Single(Directory.GetDirectories(folder.Path, "tenant-2-files.restore-*"));
        Assert.Equal(restoredFiles, ReadFiles(staging));
        string[] siblings = ["tenant-2-files-x", "tenant-2-files.restore-notes"];
        foreach (var sibling in siblings)
        {
            WriteFiles(Path.Combine(folder.Path, sibling), new() { ["keep.txt"] = sibling });
        }

        var log = new WarningLog();
        await new RestoreEngine(log).RestoreAsync(
            new RestoreRequest { ConnectionString = connectionString, BackupId = backup.Id, Repository = repository },
            null,
            CancellationToken.None);

        Assert.True(log.Has($"Removed {staging}, the staging folder of a restore of tenant tenant_id = 2"), log.ToString());
        Assert.Equal(restoredFiles, ReadFiles(files));
        Assert.Equal(
            ["repo", "tenant-2-files", .. siblings],
            Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(siblings, s => Assert.Equal(s, File.ReadAllText(Path.Combine(folder.Path, s, "keep.txt"))));
        await fixture.DropDatabaseAsync(database);
    }
}
