using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Backup;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// <c>kill -9</c> of <c>tenantbackup restore</c> (rows and tenant files) at each step: archive verified, tenant lock
/// taken, in the middle of the safety backup and of its index update, rows staged, while writing the tenant's tables,
/// all written, tenant folders swapped, committed, and while recording the restore in the index. Every row of every
/// table (all tenants) is then exactly as before the restore or exactly as restored, never a mixture; the tenant's
/// folder likewise; the session's advisory lock is gone; and the next restore takes over the index lock and succeeds.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreKillTests(PostgresFixture fixture)
{
    private const string ChangeTenant2 = """
        UPDATE customers SET name = name || ' (changed)' WHERE tenant_id = 2;
        DELETE FROM audit_log WHERE ctid = (SELECT ctid FROM audit_log WHERE tenant_id = 2 ORDER BY at LIMIT 1);
        INSERT INTO audit_log (tenant_id, at, action, detail) VALUES (2, timestamptz '2026-01-01 00:00:00+00', 'after the backup', NULL);
        """;

    public static TheoryData<string, bool> Points() => new()
    {
        { "restore.verified", false },
        { "restore.locked", false },
        { "backup.table#3", false }, // the safety backup
        { "index.written#1", false }, // the safety backup's index entry
        { "restore.staged", false },
        { "restore.table#1", false },
        { "restore.table#7", false },
        { "restore.table#14", false },
        { "restore.written", false },
        { "restore.swapping", false }, // the live folder renamed away, the restored one not yet in place
        { "restore.swapped", false },
        { "restore.committed", true },
        { "index.locked#2", true }, // recording the restore in the backup's history
        { "index.written#2", true },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public async Task KilledAt_LeavesTheTenantAsBeforeOrAsRestored_AndTheNextRestoreSucceeds(string point, bool committed)
    {
        using var folder = new TempFolder();
        var repository = Path.Combine(folder.Path, "repo");
        var files = Path.Combine(folder.Path, "tenant-2-files");
        WriteFiles(files, new() { ["logo.txt"] = "v1", ["invoices/2025-001.txt"] = new string('x', 10_000) });
        var restoredFiles = ReadFiles(files);

        var database = await fixture.CreateTenantDatabaseAsync();
        var connectionString = fixture.ConnectionStringFor(database);
        await using var connection = await fixture.OpenConnectionAsync(database);
        var backup = await new BackupEngine().BackupAsync(
            new BackupRequest { ConnectionString = connectionString, Tenant = "2", Repository = repository, IncludePaths = [files] },
            null,
            CancellationToken.None);
        // Replace puts tenant 2's rows back with their own keys, so the restored database is the one backed up.
        var restoredRows = await TableDump.FingerprintAsync(connection);

        await ExecuteAsync(connection, ChangeTenant2);
        WriteFiles(files, new() { ["logo.txt"] = "v2", ["new.txt"] = "added after the backup" });
        File.Delete(Path.Combine(files, "invoices", "2025-001.txt"));
        var beforeRows = await TableDump.SnapshotAsync(connection);
        var beforeFiles = ReadFiles(files);
        Assert.NotEqual(restoredRows, TableDump.Fingerprint(beforeRows));

        using (var paused = await PausedCli.StartAsync(
            ["restore", backup.Id, "--connection", connectionString, "--repository", repository, "--yes", "--json"], point))
        {
            var killed = await paused.KillAsync();
            Assert.True(killed.ExitCode != 0, killed.Describe());
        }

        await AssertNoTenantBackupSessionAsync(fixture, database);
        var afterKill = await TableDump.SnapshotAsync(connection);
        if (committed)
        {
            Assert.Equal(restoredRows, TableDump.Fingerprint(afterKill));
            AssertFiles(restoredFiles, files, point);
        }
        else
        {
            Assert.True(
                TableDump.Fingerprint(beforeRows) == TableDump.Fingerprint(afterKill),
                $"killed at {point}: {TableDump.DescribeDifferences(beforeRows, afterKill)}");
            AssertOldFolderInPlaceOrJournaled(files, beforeFiles, restoredFiles, point);
        }

        // The engine removes .partial files older than 10 s whose writer is gone: age them rather than wait.
        foreach (var partial in Partials(repository))
        {
            File.SetLastWriteTimeUtc(partial, DateTime.UtcNow.AddMinutes(-1));
        }

        // The next restore: the advisory lock died with the session, a stale index lock holder is taken over.
        var heldIndexLock = File.Exists(Path.Combine(repository, "backups.json.lock.holder"));
        var journaled = Beside(files, ".restore-*.swap").Length > 0;
        var log = new WarningLog();
        var result = await new RestoreEngine(log).RestoreAsync(
            new RestoreRequest { ConnectionString = connectionString, BackupId = backup.Id, Repository = repository },
            null,
            CancellationToken.None);
        Assert.Equal(backup.Id, result.BackupId);
        Assert.Equal(point.StartsWith("index.", StringComparison.Ordinal), heldIndexLock);
        Assert.Equal(heldIndexLock, log.Has("Took over the repository index lock"));
        Assert.Equal(journaled, log.Has("did not finish its swap"));
        Assert.Equal(point is "restore.swapping" or "restore.swapped" or "restore.committed", journaled);
        Assert.Equal(restoredRows, await TableDump.FingerprintAsync(connection));
        AssertFiles(restoredFiles, files, point);

        // The next restore settled the killed one's swap first: its safety backup holds the folder as the rows had it.
        var safety = await ArchiveContents.ReadAsync(
            Path.Combine(repository, IndexEntries(repository).Single(e => e.Id == result.PreRestoreBackupId).Path));
        var safetyFiles = safety.Names.Where(n => n.StartsWith("files/01/", StringComparison.Ordinal))
            .ToDictionary(n => n["files/01/".Length..], n => System.Text.Encoding.UTF8.GetString(safety.Data[n]));
        Assert.Equal(committed ? restoredFiles : beforeFiles, new SortedDictionary<string, string>(safetyFiles, StringComparer.Ordinal));
        Assert.Empty(Beside(files, ".pre-restore-*"));
        Assert.Empty(Beside(files, ".restore-*.swap"));

        // Killed with its files staged and no swap begun, its staging folder goes too; nothing of it is left beside the folder.
        Assert.Equal(point is "backup.table#3" or "index.written#1" or "restore.staged" or "restore.table#1" or "restore.table#7"
            or "restore.table#14" or "restore.written", log.Has("the staging folder of a restore of tenant tenant_id = 2"));
        Assert.Empty(Beside(files, ".restore-*"));
        Assert.False(File.Exists(Path.Combine(repository, "backups.json.lock.holder")));
        AssertOnlyBackupFiles(repository);
        var verified = await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Repository = repository }, null, CancellationToken.None);
        Assert.All(verified, r => Assert.True(r.Status == IntegrityStatus.Valid, $"{r.Path}: {r.Status}"));
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static void WriteFiles(string root, Dictionary<string, string> files)
    {
        foreach (var (relative, content) in files)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }
    }

    /// <summary>Relative path → content of every file under <paramref name="root"/>; null when the folder is not there.</summary>
    internal static SortedDictionary<string, string>? ReadFiles(string root) =>
        Directory.Exists(root)
            ? new(Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllText), StringComparer.Ordinal)
            : null;

    /// <summary>
    /// Rolled back: the folder is as before, or (killed between the swap and COMMIT) it is journaled for the next restore
    /// to settle, with the old folder whole at <c>&lt;dir&gt;.pre-restore-&lt;ts&gt;</c> and the restored one, or none, in place.
    /// </summary>
    private static void AssertOldFolderInPlaceOrJournaled(
        string root, SortedDictionary<string, string>? before, SortedDictionary<string, string>? restored, string point)
    {
        var current = ReadFiles(root);
        if (SameFiles(current, before))
        {
            return;
        }

        Assert.True(
            Beside(root, ".restore-*.swap").Length == 1, $"killed at {point}: {root} changed, and no swap journal says how to undo it.");
        Assert.True(
            current is null || SameFiles(current, restored), $"killed at {point}: {root} holds neither the old nor the restored files.");
        Assert.True(
            SameFiles(before, ReadFiles(Assert.Single(Beside(root, ".pre-restore-*")))),
            $"killed at {point}: the old folder is not whole.");
    }

    private static string[] Beside(string root, string suffixPattern) =>
        Directory.GetFileSystemEntries(Path.GetDirectoryName(root)!, Path.GetFileName(root) + suffixPattern);

    private static bool SameFiles(SortedDictionary<string, string>? a, SortedDictionary<string, string>? b) =>
        a is null || b is null ? a is null && b is null : a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);

    private static void AssertFiles(SortedDictionary<string, string>? expected, string root, string point)
    {
        var actual = ReadFiles(root);
        Assert.True(actual is not null, $"killed at {point}: the tenant folder {root} is gone.");
        Assert.Equal(expected, actual);
    }
}
