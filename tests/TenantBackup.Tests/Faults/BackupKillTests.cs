using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// <c>kill -9</c> of <c>tenantbackup backup</c> at every step of a backup, each reached exactly through the engine's
/// pause points: connected, tenant lock, catalog read, the archive's header, each of the 14 tables' export, the tenant
/// files, the manifest and the compressor's last frame, the finished <c>.partial</c>, the rename, the index lock, the
/// index temp file and the renamed index. Whatever the step, the repository holds no partial archive under an archive's
/// name and no index entry for one; the tenant lock died with the session; the next backup cleans up what the killed
/// one left, succeeds, and every backup in the index verifies.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BackupKillTests(PostgresFixture fixture)
{
    /// <summary>What a kill at a point leaves: no archive; a whole archive the index does not list yet; a listed one.</summary>
    public enum Leaves
    {
        NoArchive,
        UnlistedArchive,
        ListedArchive,
    }

    public static TheoryData<string, Leaves> Points()
    {
        var data = new TheoryData<string, Leaves>
        {
            { "backup.connected", Leaves.NoArchive },
            { "backup.locked", Leaves.NoArchive },
            { "backup.scope", Leaves.NoArchive },
            { "backup.header", Leaves.NoArchive },
        };
        for (var table = 1; table <= TestSchema.ScopedTables.Count; table++)
        {
            data.Add($"backup.table#{table}", Leaves.NoArchive);
        }

        data.Add("backup.files", Leaves.NoArchive);
        data.Add("backup.manifest", Leaves.NoArchive);
        data.Add("backup.written", Leaves.NoArchive);
        data.Add("backup.renamed", Leaves.UnlistedArchive);
        data.Add("backup.sidecar", Leaves.UnlistedArchive);
        data.Add("index.locked", Leaves.UnlistedArchive);
        data.Add("index.written", Leaves.UnlistedArchive);
        data.Add("index.replaced", Leaves.ListedArchive);
        return data;
    }

    [Theory]
    [MemberData(nameof(Points))]
    public async Task KilledAt_LeavesNoPartialArchiveOrEntry_AndTheNextBackupSucceedsAndVerifies(string point, Leaves leaves)
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        using var files = TenantFiles();
        var repository = Path.Combine(folder.Path, "repo");
        var request = new BackupRequest
        {
            ConnectionString = fixture.ConnectionStringFor(database),
            Tenant = "2",
            Repository = repository,
            IncludePaths = [files.Path],
        };
        var first = await new BackupEngine().BackupAsync(request, null, CancellationToken.None);
        var indexBefore = IndexEntries(repository);
        var archivesBefore = Archives(repository);

        using (var paused = await PausedCli.StartAsync(
            [
                "backup", "--connection", request.ConnectionString, "--tenant", "2", "--repository", repository,
                "--include-path", files.Path, "--json",
            ],
            point))
        {
            var killed = await paused.KillAsync();
            Assert.True(killed.ExitCode != 0, killed.Describe());
        }

        var newArchives = Archives(repository).Except(archivesBefore).ToList();
        switch (leaves)
        {
            case Leaves.NoArchive:
                Assert.Empty(newArchives);
                Assert.Equal(indexBefore, IndexEntries(repository));
                break;
            case Leaves.UnlistedArchive:
                Assert.Single(newArchives);
                Assert.Equal(indexBefore, IndexEntries(repository));
                break;
            case Leaves.ListedArchive:
                Assert.Single(newArchives);
                Assert.Equal(indexBefore.Count + 1, IndexEntries(repository).Count);
                break;
        }

        // Every archive under its final name is whole and has its .sha256, whatever the point.
        Assert.Equal(Archives(repository).Select(a => a + ".sha256"), Sidecars(repository));
        foreach (var archive in newArchives)
        {
            await AssertSha256SumAsync(archive);
        }

        await AssertNoTenantBackupSessionAsync(fixture, database);

        // The engine removes .partial files older than 10 s whose writer is gone: age them rather than wait.
        var partials = Partials(repository);
        foreach (var partial in partials)
        {
            File.SetLastWriteTimeUtc(partial, DateTime.UtcNow.AddMinutes(-1));
        }

        var heldIndexLock = File.Exists(Path.Combine(repository, "backups.json.lock.holder"));
        var log = new WarningLog();
        var next = await new BackupEngine(log).BackupAsync(request, null, CancellationToken.None);
        Assert.All(partials, p => Assert.True(log.Has($"Removed {p}"), log.ToString()));
        Assert.Equal(point.StartsWith("index.", StringComparison.Ordinal), heldIndexLock);
        Assert.Equal(heldIndexLock, log.Has("Took over the repository index lock"));
        if (leaves == Leaves.UnlistedArchive)
        {
            var adopted = await IndexSync.RunAsync(new IndexSyncRequest { Repository = repository, Apply = true }, CancellationToken.None);
            Assert.Equal(IndexDiscrepancyKind.Orphaned, Assert.Single(adopted).Kind);
            Assert.True(adopted[0].Applied, adopted[0].Detail);
        }

        AssertOnlyBackupFiles(repository);
        Assert.False(
            File.Exists(Path.Combine(repository, "backups.json.lock.holder")),
            "The killed holder's record outlived the next index update.");
        var entries = IndexEntries(repository);
        Assert.Contains(entries, e => e.Id == first.Id);
        Assert.Contains(entries, e => e.Id == next.Id);
        Assert.Equal(Archives(repository).Count, entries.Count);
        var verified = await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Repository = repository }, null, CancellationToken.None);
        Assert.All(verified, r => Assert.True(r.Status == IntegrityStatus.Valid, $"{r.Path}: {r.Status}"));
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    /// <summary>A few tenant files, so that the backup has a files phase.</summary>
    internal static TempFolder TenantFiles()
    {
        var files = new TempFolder();
        Directory.CreateDirectory(Path.Combine(files.Path, "invoices"));
        File.WriteAllText(Path.Combine(files.Path, "logo.txt"), "tenant 2 logo");
        File.WriteAllText(Path.Combine(files.Path, "invoices", "2025-001.txt"), new string('x', 10_000));
        return files;
    }
}
