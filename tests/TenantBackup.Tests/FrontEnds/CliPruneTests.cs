using System.Text.Json;
using TenantBackup.Cli;
using TenantBackup.Cli.Commands;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.EndToEnd;
using TenantBackup.Tests.Repository;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// <c>tenantbackup prune</c>, by policy and by id: options → request, dry run, JSON and text output, exit codes; each once as a
/// real process.
/// </summary>
public sealed class CliPruneTests : IDisposable
{
    private readonly TempFolder _repository = new();

    public void Dispose() => _repository.Dispose();

    private Task<BackupRepository> Backups() => PruneTestRepository.CreateAsync(
        _repository.Path, ("a", "7", 0), ("b", "7", 1), ("c", "7", 2), ("x", "8", 0));

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Program.RunAsync(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void EveryOptionReachesTheRequest()
    {
        var parseResult = Program.Parse(
        [
            "prune", "--repository", "/var/backups/tenants", "--tenant", "42", "--keep-last", "3", "--keep-daily", "7",
            "--keep-weekly", "4", "--keep-monthly", "12", "--older-than", "30d", "--force",
        ]);
        Assert.Empty(parseResult.Errors);

        var request = ((PruneCommand)parseResult.CommandResult.Command).BuildRequest(parseResult);

        Assert.Equal(("/var/backups/tenants", "42", true), (request.Repository, request.Tenant, request.Force));
        var policy = request.Policy!;
        Assert.Equal(
            (3, 7, 4, 12, TimeSpan.FromDays(30)),
            (policy.KeepLast, policy.KeepDaily, policy.KeepWeekly, policy.KeepMonthly, policy.OlderThan));
    }

    [Theory]
    [InlineData("--keep-last", "-1")]
    [InlineData("--older-than", "soon")]
    public async Task BadValuesAreUsageErrors(string option, string value)
    {
        var (exitCode, stdout, stderr) = await RunAsync("prune", "--repository", _repository.Path, option, value);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.Contains("usage", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoRuleIsInvalidArgumentAndRemovesNothing()
    {
        var repository = await Backups();

        var (exitCode, _, stderr) = await RunAsync("prune", "--repository", _repository.Path);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("error InvalidArgument", stderr, StringComparison.Ordinal);
        Assert.Equal(4, repository.List().Count);
    }

    [Fact]
    public async Task DryRunListsWhatWouldGoAndWhyAndWritesNothing()
    {
        var repository = await Backups();
        var index = await File.ReadAllTextAsync(repository.IndexPath);
        var files = PruneTestRepository.Files(_repository.Path);

        var (exitCode, stdout, stderr) = await RunAsync("prune", "--repository", _repository.Path, "--keep-last", "1", "--dry-run");

        Assert.True(exitCode == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("ACTION", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^keep\s+7\s+c\s+full\s.*last 1; newest valid backup of the tenant$", lines[1]);
        Assert.Matches(@"^remove\s+7\s+b\s+full\s.*no keep rule keeps it$", lines[2]);
        Assert.Equal("Dry run: would remove 2 and keep 2 backup(s); nothing was changed.", lines[^1]);
        Assert.Equal(index, await File.ReadAllTextAsync(repository.IndexPath));
        Assert.Equal(files, PruneTestRepository.Files(_repository.Path));
    }

    [Fact]
    public async Task PruneAsARealProcessRemovesAndPrintsTheDecisionsAsJson()
    {
        var repository = await Backups();

        var result = await CliProcess.RunAsync(["prune", "--repository", _repository.Path, "--tenant", "7", "--keep-daily", "2", "--json"]);

        Assert.True(result.ExitCode == 0, result.Describe());
        using var json = JsonDocument.Parse(result.Stdout);
        var decisions = json.RootElement.EnumerateArray()
            .Select(d => (d.GetProperty("id").GetString(), d.GetProperty("action").GetString(), d.GetProperty("removed").GetBoolean()))
            .ToList();
        Assert.Equal([("c", "keep", false), ("b", "keep", false), ("a", "remove", true)], decisions);
        Assert.Equal("daily 2026-11-02", json.RootElement[1].GetProperty("reasons")[0].GetString());
        Assert.Equal(["b", "c", "x"], repository.List().Select(b => b.Id).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("tenant-7-a.tar.zst", PruneTestRepository.Files(_repository.Path));
        Assert.DoesNotContain("tenant-7-a.tar.zst.sha256", PruneTestRepository.Files(_repository.Path));
    }

    [Fact]
    public void IdsReachTheRequestWithoutAPolicy()
    {
        var parseResult = Program.Parse(["prune", "a", "B", "--repository", "/var/backups/tenants", "--force"]);
        Assert.Empty(parseResult.Errors);

        var request = ((PruneCommand)parseResult.CommandResult.Command).BuildRequest(parseResult);

        Assert.Equal(["a", "B"], request.Ids);
        Assert.Equal(("/var/backups/tenants", null, true, null), (request.Repository, request.Tenant, request.Force, request.Policy));
    }

    [Theory]
    [InlineData("--keep-last", "1")]
    [InlineData("--older-than", "30d")]
    [InlineData("--tenant", "7")]
    public async Task IdsWithAPolicyOrATenantAreInvalidArgumentAndRemoveNothing(string option, string value)
    {
        var repository = await Backups();
        var files = PruneTestRepository.Files(_repository.Path);

        var (exitCode, stdout, stderr) = await RunAsync("prune", "a", "--repository", _repository.Path, option, value);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Empty(stdout);
        Assert.Contains("error InvalidArgument", stderr, StringComparison.Ordinal);
        Assert.Equal(4, repository.List().Count);
        Assert.Equal(files, PruneTestRepository.Files(_repository.Path));
    }

    [Fact]
    public async Task ByIdRemovesThoseBackupsOnlyAndKeepsTheNewestValidOneWithoutForce()
    {
        var repository = await Backups();

        var (exitCode, stdout, stderr) = await RunAsync("prune", "A", "c", "--repository", _repository.Path);

        Assert.True(exitCode == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches(@"^keep\s+7\s+c\s.*newest valid backup of the tenant", lines[1]);
        Assert.Matches(@"^removed\s+7\s+a\s.*asked for by id$", lines[2]);
        Assert.Equal("Removed 1 and kept 1 backup(s).", lines[^1]);
        Assert.Equal(["b", "c", "x"], repository.List().Select(b => b.Id).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("tenant-7-a.tar.zst", PruneTestRepository.Files(_repository.Path));

        (exitCode, _, stderr) = await RunAsync("prune", "c", "--repository", _repository.Path, "--force");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal(["b", "x"], repository.List().Select(b => b.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ByIdDryRunListsTheDecisionsAndWritesNothing()
    {
        var repository = await Backups();
        var index = await File.ReadAllTextAsync(repository.IndexPath);
        var files = PruneTestRepository.Files(_repository.Path);

        var (exitCode, stdout, stderr) = await RunAsync("prune", "b", "x", "--repository", _repository.Path, "--dry-run", "--json");

        Assert.True(exitCode == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var decisions = json.RootElement.EnumerateArray()
            .Select(d => (d.GetProperty("id").GetString(), d.GetProperty("action").GetString(), d.GetProperty("removed").GetBoolean()))
            .ToList();
        Assert.Equal([("b", "remove", false), ("x", "keep", false)], decisions);
        Assert.Equal(index, await File.ReadAllTextAsync(repository.IndexPath));
        Assert.Equal(files, PruneTestRepository.Files(_repository.Path));
    }

    [Fact]
    public async Task AnUnknownIdIsArchiveNotFoundAndRemovesNothing()
    {
        var repository = await Backups();
        var files = PruneTestRepository.Files(_repository.Path);

        var (exitCode, stdout, stderr) = await RunAsync("prune", "a", "nope", "--repository", _repository.Path);

        Assert.Equal(ExitCodes.Integrity, exitCode);
        Assert.Empty(stdout);
        Assert.Contains("error ArchiveNotFound", stderr, StringComparison.Ordinal);
        Assert.Contains("nope", stderr, StringComparison.Ordinal);
        Assert.Equal(4, repository.List().Count);
        Assert.Equal(files, PruneTestRepository.Files(_repository.Path));
    }

    [Fact]
    public async Task PruneByIdAsARealProcessRemovesTheBackupWithItsFiles()
    {
        var repository = await Backups();

        var result = await CliProcess.RunAsync(["prune", "b", "--repository", _repository.Path, "--json"]);

        Assert.True(result.ExitCode == 0, result.Describe());
        using var json = JsonDocument.Parse(result.Stdout);
        var decision = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(("b", "remove", true), (decision.GetProperty("id").GetString(), decision.GetProperty("action").GetString(),
            decision.GetProperty("removed").GetBoolean()));
        Assert.Equal(["a", "c", "x"], repository.List().Select(b => b.Id).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("tenant-7-b.tar.zst", PruneTestRepository.Files(_repository.Path));
        Assert.DoesNotContain("tenant-7-b.tar.zst.sha256", PruneTestRepository.Files(_repository.Path));
    }
}
