using System.Collections;
using System.Management.Automation;
using System.Reflection;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Completion;
using TenantBackup.Tests.Repository;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The -Tenant and -Id completers over a real repository folder: called directly with the bound parameters PowerShell
/// would pass, and through PowerShell's own TabExpansion2 on a command line.
/// </summary>
public sealed class ArgumentCompleterTests : IDisposable
{
    private readonly TempFolder _repository = new();

    public void Dispose() => _repository.Dispose();

    // Tenants 7, 42 and "acme corp" (a value that needs quotes), at days 0..3 after PruneTestRepository.T0.
    private Task<BackupRepository> Backups() => PruneTestRepository.CreateAsync(
        _repository.Path, ("01A", "42", 0), ("01B", "7", 1), ("01C", "42", 2), ("01D", "acme corp", 3), ("02A", "42", 3));

    private Hashtable Bound(params (string Name, object Value)[] extra)
    {
        var bound = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["Repository"] = _repository.Path };
        foreach (var (name, value) in extra)
        {
            bound[name] = value;
        }

        return bound;
    }

    private static List<CompletionResult> Tenants(string word, IDictionary bound) =>
        new TenantCompleter().CompleteArgument("Get-TenantBackup", "Tenant", word, null!, bound).ToList();

    private static List<CompletionResult> Ids(string word, IDictionary bound) =>
        new BackupIdCompleter().CompleteArgument("Get-TenantBackup", "Id", word, null!, bound).ToList();

    [Fact]
    public async Task TenantsAreTheIndexsTenantsInNumericOrderWithTheirBackupsInTheTooltip()
    {
        await Backups();

        var results = Tenants(string.Empty, Bound());

        Assert.Equal(["7", "42", "'acme corp'"], results.Select(r => r.CompletionText));
        Assert.Equal(["7", "42", "acme corp"], results.Select(r => r.ListItemText));
        Assert.All(results, r => Assert.Equal(CompletionResultType.ParameterValue, r.ResultType));
        var newest = LocalTime(PruneTestRepository.T0.AddDays(3));
        Assert.Equal($"Tenant 42: 3 backups, newest {newest} (02A)", results[1].ToolTip);
        Assert.StartsWith("Tenant 7: 1 backup, newest ", results[0].ToolTip, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantsMatchThePrefixTypedQuotedOrNotAndWildcards()
    {
        await Backups();

        Assert.Equal(["42"], Tenants("4", Bound()).Select(r => r.CompletionText));
        Assert.Equal(["'acme corp'"], Tenants("'AC", Bound()).Select(r => r.CompletionText));
        Assert.Equal(["'acme corp'"], Tenants("*corp", Bound()).Select(r => r.CompletionText));
        Assert.Empty(Tenants("9", Bound()));
    }

    [Fact]
    public async Task IdsAreNewestFirstWithTenantKindAndTimeInTheTooltip()
    {
        await Backups();

        var results = Ids(string.Empty, Bound());

        Assert.Equal(["02A", "01D", "01C", "01B", "01A"], results.Select(r => r.CompletionText));
        var time = LocalTime(PruneTestRepository.T0.AddDays(2));
        Assert.StartsWith($"Tenant 42, full, {time}, ", results[2].ToolTip, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdsMatchThePrefixIgnoringCaseAndFollowABoundTenant()
    {
        await Backups();

        Assert.Equal(["01D", "01C", "01B", "01A"], Ids("01", Bound()).Select(r => r.CompletionText));
        Assert.Equal(["02A"], Ids("02a", Bound()).Select(r => r.CompletionText));
        Assert.Equal(["02A", "01C", "01A"], Ids(string.Empty, Bound(("Tenant", "42"))).Select(r => r.CompletionText));
        Assert.Equal(["01D", "01B"], Ids(string.Empty, Bound(("Tenant", new[] { "7", "acme corp" }))).Select(r => r.CompletionText));
    }

    [Fact]
    public void AMissingOrBrokenRepositoryCompletesNothingAndNeverThrows()
    {
        var missing = Path.Combine(_repository.Path, "nowhere");
        File.WriteAllText(Path.Combine(_repository.Path, BackupRepository.IndexFileName), "{ not json");

        Assert.Empty(Tenants(string.Empty, new Hashtable { ["Repository"] = missing }));
        Assert.Empty(Ids(string.Empty, new Hashtable { ["Repository"] = missing }));
        Assert.Empty(Tenants(string.Empty, Bound()));
        Assert.Empty(Ids(string.Empty, Bound()));
        Assert.Empty(Ids(string.Empty, new Hashtable { ["Repository"] = 42 }));
    }

    [Fact]
    public async Task WithoutRepositoryTheDefaultRepositoryIsRead()
    {
        await Backups();
        var saved = Environment.GetEnvironmentVariable(BackupRepository.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(BackupRepository.EnvironmentVariable, _repository.Path);

            Assert.Equal(["7", "42", "'acme corp'"], Tenants(string.Empty, new Hashtable()).Select(r => r.CompletionText));
        }
        finally
        {
            Environment.SetEnvironmentVariable(BackupRepository.EnvironmentVariable, saved);
        }
    }

    [Theory]
    [InlineData("Get-TenantBackup -Repository {0} -Id 01", "01D,01C,01B,01A")]
    [InlineData("Restore-TenantBackup -Repository {0} -Id 02", "02A")]
    [InlineData("Remove-TenantBackup -Repository {0} -Id 01B", "01B")]
    [InlineData("Test-BackupIntegrity -Repository {0} -Id 01A", "01A")]
    [InlineData("Get-TenantBackup -Repository {0} -Tenant 42 -Id ", "02A,01C,01A")]
    [InlineData("Get-TenantBackup -Repository {0} -Tenant ", "7,42,'acme corp'")]
    [InlineData("New-TenantBackup -Repository {0} -Tenant 4", "42")]
    [InlineData("Sync-BackupIndex -Repository {0} -Tenant 7", "7")]
    [InlineData("Remove-TenantBackup -Repository {0} -KeepLast 3 -Tenant a", "'acme corp'")]
    public async Task TabExpansionOnACommandLineUsesTheCompleters(string template, string expected)
    {
        await Backups();
        var line = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, "'" + _repository.Path + "'");

        Assert.Equal(expected.Split(','), Complete(line));
    }

    [Fact]
    public async Task ARelativeRepositoryIsResolvedAgainstTheSessionsLocation()
    {
        await Backups();
        var parent = Path.GetDirectoryName(_repository.Path)!;
        var relative = Path.GetFileName(_repository.Path);

        Assert.Equal(["7", "42", "'acme corp'"], Complete($"Get-TenantBackup -Repository {relative} -Tenant ", location: parent));
    }

    [Fact]
    public void TheTenantAndIdParametersOfEveryCmdletHaveTheCompleters()
    {
        foreach (var type in CmdletMetadataTests.CmdletAssembly.GetTypes().Where(t => t.IsDefined(typeof(CmdletAttribute), inherit: false)))
        {
            foreach (var (name, completer) in new[] { ("Tenant", typeof(TenantCompleter)), ("Id", typeof(BackupIdCompleter)) })
            {
                var property = type.GetProperty(name);
                if (property is null)
                {
                    continue;
                }

                var attribute = property.GetCustomAttribute<ArgumentCompleterAttribute>();
                Assert.True(attribute?.Type == completer, $"{type.Name}.{name} has no {completer.Name}.");
            }
        }
    }

    private static string LocalTime(DateTimeOffset time) =>
        time.LocalDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private static List<string> Complete(string line, string? location = null)
    {
        using var ps = PowerShellSession.Create();
        if (location is not null)
        {
            // The test host has no Microsoft.PowerShell.Management module (Set-Location): the engine's own API does the same.
            ps.AddScript("$null = $ExecutionContext.SessionState.Path.SetLocation($args[0])").AddArgument(location).Invoke();
            ps.Commands.Clear();
        }

        ps.AddCommand("TabExpansion2").AddParameter("inputScript", line).AddParameter("cursorColumn", line.Length);
        var completion = (CommandCompletion)Assert.Single(ps.Invoke()).BaseObject;
        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        return completion.CompletionMatches.Select(m => m.CompletionText).ToList();
    }
}
