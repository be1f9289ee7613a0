using System.Text.Json.Nodes;
using TenantBackup.Engine;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Repository;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;
using Xunit;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// A <c>backups.json</c> edited by hand into nonsense, or pointing outside the repository at a real archive beside a
/// sentinel: listing, backing up, removing, pruning, verifying and restoring all refuse it with <see cref="ErrorCode.IndexCorrupt"/>
/// and a message that names the problem and the repair; <c>Sync-BackupIndex -Apply</c> sets it aside and rebuilds; the
/// files outside the repository, the database and (until the repair) the index stay exactly as they were.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostileIndexTests(PostgresFixture fixture)
{
    public static TheoryData<string, string> Indexes() => new()
    {
        { "not JSON", "not a file inside" },
        { "an array", "not valid JSON" },
        { "size is text", "not valid JSON" },
        { "backups is an object", "not valid JSON" },
        { "backups is null", "no 'backups' list" },
        { "a null entry", "entry 3 of 'backups' is null" },
        { "a null id", "entry 2 of 'backups' has no id" },
        { "a null path", "has no 'path'" },
        { "a null source", "has no 'source'" },
        { "a null tenant", "has no 'tenant'" },
        { "duplicate ids", "appears 2 times" },
        { "two entries for one file", "name the same file" },
        { "a parent path", "not a file inside the repository" },
        { "an absolute path", "not a file inside the repository" },
        { "a path through a symlinked folder", "not a file inside the repository" },
        { "a path with a dot segment", "not a file inside the repository" },
        { "a symlinked archive", "not a file inside the repository" },
    };

    [Theory]
    [MemberData(nameof(Indexes))]
    public async Task A_hostile_index_is_refused_by_every_command_and_nothing_outside_the_repository_is_touched(
        string hostile, string expected)
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        string repository = tenant.Repository;
        var kept = await tenant.BackupAsync(Engine.Compression.Zstd);
        var moved = await tenant.BackupAsync(Engine.Compression.Zstd);

        // The second backup now lives outside, beside a sentinel; the repository links to that folder and to that archive.
        string outside = tenant.Folder("tb-hostile-outside-");
        string sentinel = Path.Combine(outside, "sentinel.tar.zst");
        File.Move(moved.Path, sentinel);
        File.Move(moved.Path + ".sha256", sentinel + ".sha256");
        File.WriteAllText(Path.Combine(outside, "sentinel.txt"), "must survive\n");
        Directory.CreateSymbolicLink(Path.Combine(repository, "shared"), outside);
        File.CreateSymbolicLink(Path.Combine(repository, "linked.tar.zst"), sentinel);
        string indexPath = Path.Combine(repository, BackupRepository.IndexFileName);
        var valid = JsonNode.Parse(File.ReadAllText(indexPath))!;
        string content = Hostile(hostile, valid, moved.Id, outside, sentinel);
        if (expected == "not a file inside" && hostile == "not JSON")
        {
            expected = "not valid JSON";
        }

        File.WriteAllText(indexPath, content);
        var outsideBefore = FolderTree.Of(outside);
        var repositoryBefore = Listing(repository);
        string fingerprint = await tenant.FingerprintAsync();

        var refusals = new List<(string Command, Func<Task> Run)>
        {
            ("Get-TenantBackup", () => Task.FromResult(BackupRepository.Open(repository).List())),
            ("New-TenantBackup", () => tenant.BackupAsync(Engine.Compression.Zstd)),
            ("Remove-TenantBackup -Id", () => Pruner.PruneAsync(
                new PruneRequest { Repository = repository, Ids = [moved.Id], Force = true }, null, CancellationToken.None)),
            ("Remove-TenantBackup -KeepLast 0", () => Pruner.PruneAsync(
                new PruneRequest { Repository = repository, Policy = new RetentionPolicy { KeepLast = 0 }, Force = true },
                null,
                CancellationToken.None)),
            ("Test-BackupIntegrity", () => new IntegrityEngine().VerifyAsync(
                new IntegrityRequest { Repository = repository }, null, default)),
            ("Restore-TenantBackup", () => new RestoreEngine().RestoreAsync(
                new RestoreRequest { ConnectionString = tenant.ConnectionString, BackupId = moved.Id, Repository = repository },
                null,
                default)),
            ("Sync-BackupIndex", () => IndexSync.RunAsync(new IndexSyncRequest { Repository = repository }, CancellationToken.None)),
        };
        foreach (var (command, run) in refusals)
        {
            var error = await Assert.ThrowsAsync<TenantBackupException>(run);
            Assert.True(error.Code == ErrorCode.IndexCorrupt, $"{command}: {error.Code} {error.Message}");
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.Contains("Sync-BackupIndex -Apply", error.Message, StringComparison.Ordinal);
            Assert.Equal(content, File.ReadAllText(indexPath));
            Assert.Equal(repositoryBefore, Listing(repository));
        }

        var repairs = await IndexSync.RunAsync(new IndexSyncRequest { Repository = repository, Apply = true }, CancellationToken.None);

        Assert.Contains(repairs, r => r.Kind == IndexDiscrepancyKind.IndexCorrupt && r.Applied);
        Assert.Equal([kept.Id], BackupRepository.Open(repository).List().Select(b => b.Id));
        Assert.Equal(outsideBefore, FolderTree.Of(outside));
        Assert.Equal(fingerprint, await tenant.FingerprintAsync());
    }

    private static List<string> Listing(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n != "backups.json.lock")
            .Order(StringComparer.Ordinal).ToList()!;

    /// <summary>The valid index (one backup, <c>kept</c>; the other one moved out) edited as <paramref name="hostile"/> says.</summary>
    private static string Hostile(string hostile, JsonNode index, string movedId, string outside, string sentinel)
    {
        var backups = index["backups"]!.AsArray();
        backups.Remove(backups.Single(b => b!["id"]!.GetValue<string>() == movedId));
        JsonNode Moved(string path)
        {
            var entry = backups[0]!.DeepClone();
            entry["id"] = movedId;
            entry["path"] = path;
            return entry;
        }

        string outsideName = Path.GetFileName(outside);
        switch (hostile)
        {
            case "not JSON":
                return "this is not JSON {";
            case "an array":
                return "[]";
            case "size is text":
                backups[0]!["size"] = "big";
                break;
            case "backups is an object":
                index["backups"] = new JsonObject();
                break;
            case "backups is null":
                index["backups"] = null;
                break;
            case "a null entry":
                backups.Add(Moved("moved.tar.zst"));
                backups.Add(null);
                break;
            case "a null id":
                backups.Add(Moved("moved.tar.zst"));
                backups[1]!["id"] = null;
                break;
            case "a null path":
            case "a null source":
            case "a null tenant":
                backups[0]![hostile["a null ".Length..]] = null;
                break;
            case "duplicate ids":
                backups.Add(Moved("moved.tar.zst"));
                backups[1]!["id"] = backups[0]!["id"]!.GetValue<string>().ToLowerInvariant();
                break;
            case "two entries for one file":
                backups.Add(Moved(backups[0]!["path"]!.GetValue<string>()));
                break;
            case "a parent path":
                backups.Add(Moved($"../{outsideName}/sentinel.tar.zst"));
                break;
            case "an absolute path":
                backups.Add(Moved(sentinel));
                break;
            case "a path through a symlinked folder":
                backups.Add(Moved("shared/sentinel.tar.zst"));
                break;
            case "a symlinked archive":
                backups.Add(Moved("linked.tar.zst"));
                break;
            case "a path with a dot segment":
                backups.Add(Moved("./shared/../shared/sentinel.tar.zst"));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(hostile), hostile, null);
        }

        return index.ToJsonString();
    }
}
