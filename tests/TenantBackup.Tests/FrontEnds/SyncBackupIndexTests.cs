using System.Management.Automation;
using System.Reflection;
using System.Text.Json;
using TenantBackup.Cli;
using TenantBackup.Cli.Commands;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Commands;
using TenantBackup.Tests.EndToEnd;
using TenantBackup.Tests.Repository;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>Sync-BackupIndex and <c>tenantbackup sync</c>: parameters to request, metadata, and the CLI's output.</summary>
public sealed class SyncBackupIndexTests : IDisposable
{
    private readonly SyncRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void EveryParameterReachesTheRequest()
    {
        var command = new SyncBackupIndexCommand { Repository = "repo", Tenant = "42", Apply = true };

        var request = command.BuildRequest(path => "/home/op/" + path);

        Assert.Equivalent(new IndexSyncRequest { Repository = "/home/op/repo", Tenant = "42", Apply = true }, request);
        Assert.False(command.BuildRequest(apply: false).Apply);
    }

    [Fact]
    public void ParametersLeftOutCompareEveryTenantOfTheDefaultRepositoryWithoutWriting()
    {
        Assert.Equivalent(new IndexSyncRequest(), new SyncBackupIndexCommand().BuildRequest());
    }

    [Fact]
    public void TheCmdletConfirmsWritesAndDeclaresItsOutput()
    {
        var cmdlet = typeof(SyncBackupIndexCommand).GetCustomAttribute<CmdletAttribute>()!;
        Assert.Equal(("Sync", "BackupIndex", true), (cmdlet.VerbName, cmdlet.NounName, cmdlet.SupportsShouldProcess));
        Assert.Equal(ConfirmImpact.Medium, cmdlet.ConfirmImpact);
        var output = typeof(SyncBackupIndexCommand).GetCustomAttribute<OutputTypeAttribute>()!;
        Assert.Equal(typeof(IndexDiscrepancy), Assert.Single(output.Type).Type);
        Assert.Equal(0, typeof(SyncBackupIndexCommand).GetProperty("Tenant")!.GetCustomAttribute<ParameterAttribute>()!.Position);
    }

    [Fact]
    public void TheShouldProcessTargetNamesTheIndexAndTheTenant()
    {
        Assert.Equal("Index '/r/backups.json'", SyncBackupIndexCommand.DescribeTarget(new IndexSyncRequest(), "/r"));
        Assert.Equal(
            "Index '/r/backups.json', backups of tenant '7'",
            SyncBackupIndexCommand.DescribeTarget(new IndexSyncRequest { Tenant = "7" }, "/r"));
    }

    [Fact]
    public void TheCliOptionsReachTheRequest()
    {
        var parse = Program.Parse(["sync", "--repository", "repo", "--tenant", "7", "--apply"]);
        var command = Assert.IsType<SyncCommand>(parse.CommandResult.Command);

        Assert.Equivalent(
            new IndexSyncRequest { Repository = Path.GetFullPath("repo"), Tenant = "7", Apply = true }, command.BuildRequest(parse));
        Assert.Equivalent(new IndexSyncRequest(), command.BuildRequest(Program.Parse(["sync"])));
        Assert.Subset(
            command.Options.Select(o => o.Name).ToHashSet(), new HashSet<string> { "--repository", "--tenant", "--apply", "--json" });
    }

    [Fact]
    public async Task TextOutputSaysWhatWasFoundAndExitsThreeUntilRepaired()
    {
        var gone = await _repo.AddAsync("7");
        File.Delete(_repo.PathOf(gone));

        var (dryExit, dryOut, dryErr) = await RunAsync("sync", "--repository", _repo.Root);
        Assert.True(dryExit == ExitCodes.Integrity, dryErr);
        Assert.Contains($"Missing backup {gone.Id} (tenant 7)", dryOut, StringComparison.Ordinal);
        Assert.Contains("would: mark it missing", dryOut, StringComparison.Ordinal);
        Assert.EndsWith(
            $"1 discrepancy in {_repo.Root}; run with --apply to repair the index.", dryOut.TrimEnd(), StringComparison.Ordinal);

        var (applyExit, applyOut, _) = await RunAsync("sync", "--repository", _repo.Root, "--apply");
        Assert.Equal(ExitCodes.Success, applyExit);
        Assert.Contains("done: mark it missing", applyOut, StringComparison.Ordinal);
        Assert.EndsWith($"1 discrepancy in {_repo.Root}; 1 repaired.", applyOut.TrimEnd(), StringComparison.Ordinal);

        var (cleanExit, cleanOut, cleanErr) = await RunAsync("sync", "--repository", _repo.Root);
        Assert.Equal(ExitCodes.Success, cleanExit);
        Assert.Equal($"The index of {_repo.Root} agrees with its archives.", cleanOut.Trim());
        Assert.Empty(cleanErr);
    }

    [Fact]
    public async Task AnUnreadableIndexFailsWithItsHintAndChangesNothing()
    {
        await _repo.AddAsync("7");
        await File.WriteAllTextAsync(_repo.IndexPath, "{\"schemaVersion\":");
        var before = _repo.Snapshot();

        var (exitCode, stdout, stderr) = await RunAsync("sync", "--repository", _repo.Root, "--json");

        Assert.Equal(ExitCodes.Failure, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith("tenantbackup: error IndexCorrupt:", stderr, StringComparison.Ordinal);
        Assert.Contains("tenantbackup sync --apply", stderr, StringComparison.Ordinal);
        Assert.Equal(before, _repo.Snapshot());
    }

    [Fact]
    public async Task TheBuiltCliPrintsTheDiscrepanciesAsJsonAndRepairsWithApply()
    {
        var orphan = await _repo.AddAsync("9", indexed: false);
        var gone = await _repo.AddAsync("7");
        File.Delete(_repo.PathOf(gone));
        var before = _repo.Snapshot();

        var dry = await CliProcess.RunAsync(["sync", "--repository", _repo.Root, "--json"]);

        Assert.True(dry.ExitCode == ExitCodes.Integrity, dry.Describe());
        Assert.Empty(dry.Stderr);
        Assert.Equal(before, _repo.Snapshot());
        using (var json = JsonDocument.Parse(dry.Stdout))
        {
            var items = json.RootElement.EnumerateArray().ToList();
            Assert.Equal(
                [("missing", gone.Id, false), ("orphaned", orphan.Id, false)],
                items.Select(i => (
                    i.GetProperty("kind").GetString(), i.GetProperty("id").GetString(), i.GetProperty("applied").GetBoolean())));
            Assert.Equal(typeof(IndexDiscrepancy).GetProperties().Length, items[0].EnumerateObject().Count());
            Assert.Equal(_repo.Root, items[0].GetProperty("repository").GetString());
        }

        var apply = await CliProcess.RunAsync(["sync", "--repository", _repo.Root, "--apply", "--json"]);
        Assert.True(apply.ExitCode == ExitCodes.Success, apply.Describe());
        using (var json = JsonDocument.Parse(apply.Stdout))
        {
            Assert.All(json.RootElement.EnumerateArray(), i => Assert.True(i.GetProperty("applied").GetBoolean()));
        }

        var again = await CliProcess.RunAsync(["sync", "--repository", _repo.Root, "--json"]);
        Assert.True(again.ExitCode == ExitCodes.Success, again.Describe());
        Assert.Equal("[]", again.Stdout.Trim());
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Program.RunAsync(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
