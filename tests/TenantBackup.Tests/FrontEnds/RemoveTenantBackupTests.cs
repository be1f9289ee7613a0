using System.Management.Automation;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Commands;
using TenantBackup.Tests.Repository;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// Remove-TenantBackup: its parameters → PruneRequest through the pure BuildRequest, and the command run by a real
/// PowerShell engine over a repository of dummy archives (-WhatIf, -Force, prompts, pipeline).
/// </summary>
public sealed class RemoveTenantBackupTests : IDisposable
{
    private const string FullyQualified = ",TenantBackup.PowerShell.Commands.RemoveTenantBackupCommand";
    private static readonly Func<string, string> FromHome = path => Path.IsPathRooted(path) ? path : "/home/op/" + path;
    private readonly TempFolder _repository = new();

    public void Dispose() => _repository.Dispose();

    private Task<BackupRepository> Backups() => PruneTestRepository.CreateAsync(
        _repository.Path, ("a", "7", 0), ("b", "7", 1), ("c", "7", 2), ("x", "8", 0));

    private string[] Files() => PruneTestRepository.Files(_repository.Path);

    [Fact]
    public void PolicyParametersReachTheRequest()
    {
        var command = new RemoveTenantBackupCommand
        {
            Repository = "repo",
            Tenant = "42",
            KeepLast = 3,
            KeepDaily = 7,
            KeepWeekly = 4,
            KeepMonthly = 12,
            OlderThan = TimeSpan.FromDays(30),
            Force = true,
        };

        var request = command.BuildRequest(FromHome, command.Repository, []);

        Assert.Equal("/home/op/repo", request.Repository);
        Assert.Equal("42", request.Tenant);
        Assert.Empty(request.Ids);
        Assert.True(request.Force);
        var policy = request.Policy!;
        Assert.Equal(
            (3, 7, 4, 12, TimeSpan.FromDays(30)),
            (policy.KeepLast, policy.KeepDaily, policy.KeepWeekly, policy.KeepMonthly, policy.OlderThan));
    }

    [Fact]
    public void IdsMakeARequestWithoutPolicy()
    {
        var command = new RemoveTenantBackupCommand { KeepLast = 3 };

        var request = command.BuildRequest(FromHome, null, ["0001", "0002"]);

        Assert.Equal(["0001", "0002"], request.Ids);
        Assert.Null(request.Policy);
        Assert.Null(request.Repository);
        Assert.False(request.Force);
    }

    [Fact]
    public void NoRuleIsInvalidArgument()
    {
        var error = Assert.Throws<TenantBackupException>(() => new RemoveTenantBackupCommand().BuildRequest(FromHome, null, []));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void TheCommandIsHighImpactWithTheIdAndPolicySets()
    {
        var attribute = (CmdletAttribute)Attribute.GetCustomAttribute(typeof(RemoveTenantBackupCommand), typeof(CmdletAttribute))!;
        Assert.True(attribute.SupportsShouldProcess);
        Assert.Equal(ConfirmImpact.High, attribute.ConfirmImpact);
        Assert.Equal(RemoveTenantBackupCommand.PolicySet, attribute.DefaultParameterSetName);

        var parameters = new CmdletInfo("Remove-TenantBackup", typeof(RemoveTenantBackupCommand)).Parameters;
        Assert.Equal([RemoveTenantBackupCommand.InputObjectSet], parameters["InputObject"].ParameterSets.Keys);
        Assert.True(parameters["InputObject"].ParameterSets[RemoveTenantBackupCommand.InputObjectSet].ValueFromPipeline);
        Assert.True(parameters["Id"].ParameterSets[RemoveTenantBackupCommand.ByIdSet].IsMandatory);
        Assert.Equal([RemoveTenantBackupCommand.PolicySet], parameters["KeepDaily"].ParameterSets.Keys);
        Assert.Equal(typeof(TimeSpan?), parameters["OlderThan"].ParameterType);
    }

    [Theory]
    [InlineData("30d", 30 * 86400.0)]
    [InlineData("1.5h", 5400.0)]
    [InlineData("90m", 5400.0)]
    [InlineData("1500ms", 1.5)]
    [InlineData("45s", 45.0)]
    [InlineData("7.00:00:00", 7 * 86400.0)]
    [InlineData(3600, 3600.0)]
    public void OlderThanTakesTheCliDurationForms(object input, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), OlderThanTransformation().Transform(null!, input));
    }

    [Fact]
    public async Task AnUnquoted30dIsRefusedRatherThanReadAsThirtySeconds()
    {
        var repository = await Backups();
        using var ps = PowerShellSession.Create();
        ps.AddScript($"Remove-TenantBackup -Repository '{_repository.Path}' -OlderThan 30d -Force");

        Assert.Null(ps.InvokeCatching(out _));

        // A binding error in a script is written, not thrown.
        var error = Assert.Single(ps.Streams.Error);
        Assert.Equal(
            "ParameterArgumentTransformationError,TenantBackup.PowerShell.Commands.RemoveTenantBackupCommand",
            error?.FullyQualifiedErrorId);
        Assert.Contains("quote it ('30d')", error?.Exception.Message, StringComparison.Ordinal);
        Assert.Equal(4, repository.List().Count);
        Assert.Throws<ArgumentTransformationMetadataException>(() => OlderThanTransformation().Transform(null!, 30m));
    }

    private static ArgumentTransformationAttribute OlderThanTransformation() =>
        typeof(RemoveTenantBackupCommand).GetProperty(nameof(RemoveTenantBackupCommand.OlderThan))!
            .GetCustomAttributes(typeof(ArgumentTransformationAttribute), inherit: false)
            .Cast<ArgumentTransformationAttribute>()
            .Single();

    [Fact]
    public async Task WhatIfWritesEveryDecisionAndRemovesNothing()
    {
        var repository = await Backups();
        var index = await File.ReadAllTextAsync(repository.IndexPath);
        var files = Files();
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Remove-TenantBackup").AddParameter("Repository", _repository.Path).AddParameter("KeepLast", 1)
            .AddParameter("WhatIf").AddParameter("Force");

        var output = ps.Invoke().Select(o => (PruneDecision)o.BaseObject).ToList();

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Equal(
            [("c", PruneAction.Keep), ("b", PruneAction.Remove), ("a", PruneAction.Remove), ("x", PruneAction.Keep)],
            output.Select(d => (d.Id, d.Action)));
        Assert.Equal(index, await File.ReadAllTextAsync(repository.IndexPath));
        Assert.Equal(files, Files());
    }

    [Fact]
    public async Task ForceRemovesWithoutPromptingAndOlderThanTakesDays()
    {
        var repository = await Backups();
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        // The backups are from November 2026 and the clock is later: all of tenant 7's are older than 10 days, and -Force
        // lets the newest valid one go too.
        ps.AddScript($"Remove-TenantBackup -Repository '{_repository.Path}' -Tenant 7 -OlderThan '10d' -Force");

        var output = ps.Invoke().Select(o => (PruneDecision)o.BaseObject).ToList();

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Empty(host.Prompts);
        Assert.Equal(
            [("a", true), ("b", true), ("c", true)], output.Select(d => (d.Id, d.Removed)).OrderBy(d => d.Id, StringComparer.Ordinal));
        Assert.All(output, d => Assert.Equal(["older than 10d"], d.Reasons));
        Assert.Equal(["x"], repository.List().Select(b => b.Id));
    }

    [Fact]
    public async Task AnsweringNoRemovesNothing()
    {
        var repository = await Backups();
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        ps.AddCommand("Remove-TenantBackup").AddParameter("Repository", _repository.Path).AddParameter("KeepLast", 1);

        var output = ps.Invoke().Select(o => (PruneDecision)o.BaseObject).ToList();

        Assert.Equal(2, host.Prompts.Count);
        Assert.Contains("backup b of tenant 7 taken 2026-11-02 02:00:00Z", host.Prompts[0], StringComparison.Ordinal);
        Assert.All(output, d => Assert.False(d.Removed));
        Assert.Equal(4, repository.List().Count);
    }

    [Fact]
    public async Task PipedBackupsAreRemovedButNotTheNewestValidOneWithoutForce()
    {
        var repository = await Backups();
        using var ps = PowerShellSession.Create();
        ps.AddScript($"Get-TenantBackup -Repository '{_repository.Path}' -Tenant 7 | Remove-TenantBackup -Confirm:$false");

        var output = ps.Invoke().Select(o => (PruneDecision)o.BaseObject).ToList();

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Equal(
            [("a", true), ("b", true), ("c", false)], output.Select(d => (d.Id, d.Removed)).OrderBy(d => d.Id, StringComparer.Ordinal));
        Assert.Contains(output.Single(d => d.Id == "c").Reasons, r => r.StartsWith("newest valid backup", StringComparison.Ordinal));
        Assert.Equal(["c", "x"], repository.List().Select(b => b.Id).Order(StringComparer.Ordinal));
        Assert.Contains("tenant-7-c.tar.zst.sha256", Files());
        Assert.DoesNotContain("tenant-7-a.tar.zst.sha256", Files());
    }

    [Fact]
    public async Task NoRuleAndUnknownIdsEndTheCommandWithTheirIdsAndChangeNothing()
    {
        var repository = await Backups();
        var index = await File.ReadAllTextAsync(repository.IndexPath);
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Remove-TenantBackup").AddParameter("Repository", _repository.Path).AddParameter("Confirm", false);
        Assert.Equal("InvalidArgument" + FullyQualified, ps.InvokeCatching(out _)?.FullyQualifiedErrorId);

        using var byId = PowerShellSession.Create();
        byId.AddCommand("Remove-TenantBackup").AddParameter("Repository", _repository.Path).AddParameter("Id", new[] { "a", "nope" })
            .AddParameter("Confirm", false);
        var error = byId.InvokeCatching(out _);
        Assert.Equal("ArchiveNotFound" + FullyQualified, error?.FullyQualifiedErrorId);
        Assert.Equal("nope", error?.TargetObject);

        Assert.Equal(index, await File.ReadAllTextAsync(repository.IndexPath));
    }
}
