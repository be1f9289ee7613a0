using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using Xunit;

namespace TenantBackup.Tests.Repository;

/// <summary>Removal from a real repository folder: index entries and dummy archives made directly, no database.</summary>
public sealed class PrunerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tb-prune-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<BackupRepository> RepositoryWith(params (string Id, string Tenant, int Day)[] backups) =>
        PruneTestRepository.CreateAsync(_root, backups);

    private string[] Files() => PruneTestRepository.Files(_root);

    private PruneRequest KeepLast(int n) => new() { Repository = _root, Policy = new RetentionPolicy { KeepLast = n } };

    [Fact]
    public async Task Prune_removes_archive_sidecar_and_entry_together_and_keeps_the_rest()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1), ("c", "7", 2), ("x", "8", 0));

        var decisions = await Pruner.PruneAsync(KeepLast(1), approved: null, CancellationToken.None);

        Assert.Equal(["x", "c"], repository.List().Select(b => b.Id));
        Assert.Equal(
            [
                "backups.json", "backups.json.lock", "notes.txt", "tenant-7-c.tar.zst", "tenant-7-c.tar.zst.sha256", "tenant-8-x.tar.zst",
                "tenant-8-x.tar.zst.sha256",
            ],
            Files());
        Assert.Equal(["a", "b"], decisions.Where(d => d.Removed).Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.All(decisions.Where(d => d.Action == PruneAction.Remove), d => Assert.Null(d.Error));
        var kept = decisions.Single(d => d.Id == "c");
        Assert.Equal((PruneAction.Keep, false, Path.Combine(_root, "tenant-7-c.tar.zst")), (kept.Action, kept.Removed, kept.Path));
    }

    [Fact]
    public async Task A_plan_is_a_dry_run_that_writes_nothing()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1));
        var index = await File.ReadAllTextAsync(repository.IndexPath);
        var files = Files();

        var decisions = Pruner.Plan(KeepLast(1));

        Assert.Equal([("b", PruneAction.Keep), ("a", PruneAction.Remove)], decisions.Select(d => (d.Id, d.Action)));
        Assert.All(decisions, d => Assert.False(d.Removed));
        Assert.Equal(index, await File.ReadAllTextAsync(repository.IndexPath));
        Assert.Equal(files, Files());
    }

    [Fact]
    public async Task A_missing_archive_still_loses_its_entry()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1));
        File.Delete(Path.Combine(_root, "tenant-7-a.tar.zst"));

        var decisions = await Pruner.PruneAsync(KeepLast(1), approved: null, CancellationToken.None);

        Assert.True(decisions.Single(d => d.Id == "a").Removed);
        Assert.Equal(["b"], repository.List().Select(b => b.Id));
        Assert.DoesNotContain("tenant-7-a.tar.zst.sha256", Files());
    }

    [Fact]
    public async Task An_archive_that_cannot_be_deleted_stays_in_the_index_and_is_reported()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1), ("c", "7", 2));
        // A folder where the archive should be: File.Delete refuses it on every platform.
        var stuck = Path.Combine(_root, "tenant-7-a.tar.zst");
        File.Delete(stuck);
        Directory.CreateDirectory(stuck);
        await File.WriteAllTextAsync(Path.Combine(stuck, "inside"), "x");

        var decisions = await Pruner.PruneAsync(KeepLast(1), approved: null, CancellationToken.None);

        var failed = decisions.Single(d => d.Id == "a");
        Assert.False(failed.Removed);
        Assert.Contains("stays in the index", failed.Error, StringComparison.Ordinal);
        Assert.True(decisions.Single(d => d.Id == "b").Removed);
        Assert.Equal(["a", "c"], repository.List().Select(b => b.Id));
        Assert.Contains("tenant-7-a.tar.zst.sha256", Files());
    }

    [Fact]
    public async Task Only_approved_backups_go_the_others_are_kept_as_not_confirmed()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1), ("c", "7", 2));

        var decisions = await Pruner.PruneAsync(KeepLast(1), new HashSet<string>(StringComparer.Ordinal) { "b" }, CancellationToken.None);

        Assert.Equal(["not confirmed"], decisions.Single(d => d.Id == "a").Reasons);
        Assert.Equal(PruneAction.Keep, decisions.Single(d => d.Id == "a").Action);
        Assert.Equal(["a", "c"], repository.List().Select(b => b.Id));
    }

    [Fact]
    public async Task By_id_the_newest_valid_backup_needs_force()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1));
        var request = new PruneRequest { Repository = _root, Ids = ["B", "a"] };

        var decisions = await Pruner.PruneAsync(request, approved: null, CancellationToken.None);
        Assert.Equal([("b", PruneAction.Keep, false), ("a", PruneAction.Remove, true)], decisions.Select(d => (d.Id, d.Action, d.Removed)));
        Assert.Equal(["b"], repository.List().Select(b => b.Id));

        var forced = await Pruner.PruneAsync(request with { Ids = ["b"], Force = true }, approved: null, CancellationToken.None);
        Assert.True(forced.Single().Removed);
        Assert.Empty(repository.List());
        Assert.Equal(["backups.json", "backups.json.lock", "notes.txt"], Files());
    }

    [Fact]
    public async Task An_unknown_id_is_ArchiveNotFound_and_nothing_is_removed()
    {
        var repository = await RepositoryWith(("a", "7", 0), ("b", "7", 1));
        var index = await File.ReadAllTextAsync(repository.IndexPath);
        var files = Files();

        var error = await Assert.ThrowsAsync<TenantBackupException>(() =>
            Pruner.PruneAsync(new PruneRequest { Repository = _root, Ids = ["a", "nope"] }, approved: null, CancellationToken.None));

        Assert.Equal(ErrorCode.ArchiveNotFound, error.Code);
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
        Assert.Equal(index, await File.ReadAllTextAsync(repository.IndexPath));
        Assert.Equal(files, Files());
    }

    [Fact]
    public async Task Both_or_neither_of_ids_and_policy_is_InvalidArgument()
    {
        await RepositoryWith(("a", "7", 0));

        Assert.Equal(
            ErrorCode.InvalidArgument,
            Assert.Throws<TenantBackupException>(() => Pruner.Plan(new PruneRequest { Repository = _root })).Code);
        Assert.Equal(
            ErrorCode.InvalidArgument,
            Assert.Throws<TenantBackupException>(() => Pruner.Plan(KeepLast(1) with { Ids = ["a"] })).Code);
        Assert.Equal(
            ErrorCode.InvalidArgument,
            Assert.Throws<TenantBackupException>(
                () => Pruner.Plan(new PruneRequest { Repository = _root, Policy = new RetentionPolicy() })).Code);
    }
}
