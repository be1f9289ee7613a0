using System.Management.Automation;
using TenantBackup.Engine;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// Restore-TenantBackup run by a real PowerShell engine: parameter and pipeline binding, the source rules, ShouldProcess
/// with -Force and -Confirm, and -WhatIf taking the planning path. None of these needs the restore itself to succeed: the
/// prompt and the progress activity show what the command was about to do, whatever the engine then says about a
/// server on port 1.
/// </summary>
public class RestoreTenantBackupPipelineTests
{
    private const string Unreachable = "Host=127.0.0.1;Port=1;Database=app;Password=S3cr3t";
    private const string FullyQualified = ",TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand";

    private static BackupInfo Backup(string id, string tenant)
        => GetTenantBackupFilterTests.Backup(id, tenant, BackupKinds.Full, DateTimeOffset.UnixEpoch, "/var/backups/tenants");

    private static System.Management.Automation.PowerShell Restore(System.Management.Automation.PowerShell ps)
        => ps.AddCommand("Restore-TenantBackup").AddParameter("ConnectionString", Unreachable);

    private static IReadOnlyList<string> ShouldProcessTargets(System.Management.Automation.PowerShell ps) => ps.Streams.Verbose
        .Select(v => v.Message)
        .Where(m => m.StartsWith("Performing the operation", StringComparison.Ordinal))
        .ToList();

    private static IReadOnlyList<string> Activities(System.Management.Automation.PowerShell ps)
        => ps.Streams.Progress.Where(p => p.ActivityId == 0x7B02).Select(p => p.Activity).Distinct().ToList();

    [Fact]
    public void WithoutForceTheHighImpactPromptIsShownOncePerPipedBackup()
    {
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        Restore(ps).AddParameter("TargetTenant", "4242");

        var output = ps.Invoke(new[] { Backup("0001", "42"), Backup("0002", "7") });

        // Answering No restores nothing and goes on with the next backup.
        Assert.Empty(output);
        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        Assert.Empty(Activities(ps));
        Assert.Equal(2, host.Prompts.Count);
        Assert.Contains(
            "backup 0001 of tenant '42' (/var/backups/tenants/42-0001.tar.zst) -> tenant '4242'",
            host.Prompts[0],
            StringComparison.Ordinal);
        Assert.Contains("backup 0002 of tenant '7'", host.Prompts[1], StringComparison.Ordinal);
        Assert.Contains("database 'app' on 127.0.0.1:1", host.Prompts[0], StringComparison.Ordinal);
        Assert.Contains("Replace: delete the tenant's current rows first", host.Prompts[0], StringComparison.Ordinal);
        Assert.DoesNotContain("S3cr3t", string.Join(Environment.NewLine, host.Prompts), StringComparison.Ordinal);
    }

    [Fact]
    public void ForceSkipsThePromptAndRestores()
    {
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        Restore(ps).AddParameter("Id", "0001").AddParameter("Force").AddParameter("Verbose");

        ps.InvokeCatching(out _);

        Assert.Empty(host.Prompts);
        Assert.Single(ShouldProcessTargets(ps));
        Assert.Equal(["Restoring backup 0001"], Activities(ps));
    }

    [Fact]
    public void AnExplicitConfirmStillAsksDespiteForce()
    {
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        Restore(ps).AddParameter("Id", "0001").AddParameter("Force").AddParameter("Confirm");

        ps.Invoke();

        Assert.Single(host.Prompts);
        Assert.Empty(Activities(ps));
    }

    [Fact]
    public void ConfirmFalseRestoresWithoutAsking()
    {
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        Restore(ps).AddParameter("Id", "0001").AddParameter("Confirm", false);

        ps.InvokeCatching(out _);

        Assert.Empty(host.Prompts);
        Assert.Equal(["Restoring backup 0001"], Activities(ps));
    }

    [Fact]
    public void WhatIfPlansInsteadOfAskingOrRestoring()
    {
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        Restore(ps).AddParameter("WhatIf").AddParameter("Verbose");

        ps.InvokeCatching(out var output, new[] { Backup("0001", "42") });

        Assert.Empty(host.Prompts);
        Assert.Empty(ShouldProcessTargets(ps));
        Assert.All(output, o => Assert.IsType<RestorePlan>(o.BaseObject));
        Assert.Equal(["Planning restore of backup 0001 of tenant '42' (/var/backups/tenants/42-0001.tar.zst)"], Activities(ps));
    }

    [Fact]
    public void WhatIfPreferencePlansTooAndWhatIfFalseOverridesIt()
    {
        using var ps = PowerShellSession.Create();
        ps.AddScript($"$WhatIfPreference = $true; Restore-TenantBackup -ConnectionString '{Unreachable}' -Id 0001");
        ps.InvokeCatching(out _);
        Assert.Equal(["Planning restore of backup 0001"], Activities(ps));

        using var overridden = PowerShellSession.Create();
        overridden.AddScript(
            $"$WhatIfPreference = $true; Restore-TenantBackup -ConnectionString '{Unreachable}' -Id 0001 -WhatIf:$false -Force");
        overridden.InvokeCatching(out _);
        Assert.Equal(["Restoring backup 0001"], Activities(overridden));
    }

    [Fact]
    public void AnObjectWithIdPathAndRepositoryBindsAndTheFileIsUsed()
    {
        // What Import-Csv or a hand-made object gives. PowerShell both binds its properties by name and converts it into a
        // BackupInfo with only those properties set; either way the file is what gets restored.
        using var ps = PowerShellSession.Create();
        ps.AddScript(
            "[pscustomobject]@{ Id = '0001'; Path = '/var/backups/tenants/a.tar.zst'; Repository = '/var/backups/tenants' } | "
            + $"Restore-TenantBackup -ConnectionString '{Unreachable}' -WhatIf");

        ps.InvokeCatching(out _);

        Assert.Equal(["Planning restore of backup 0001 (/var/backups/tenants/a.tar.zst)"], Activities(ps));
    }

    [Fact]
    public void AnObjectWithOnlyAnIdBindsTheId()
    {
        using var ps = PowerShellSession.Create();
        ps.AddScript($"[pscustomobject]@{{ Id = '0001' }} | Restore-TenantBackup -ConnectionString '{Unreachable}' -WhatIf");

        ps.InvokeCatching(out _);

        Assert.Equal(["Planning restore of backup 0001"], Activities(ps));
    }

    [Fact]
    public void ArchiveFilesBindThroughFullName()
    {
        using var folder = new TempFolder();
        var archive = Path.Combine(folder.Path, "tenant-42.tar.zst");
        File.WriteAllBytes(archive, []);
        using var ps = PowerShellSession.Create();
        ps.AddScript(
            $"[IO.DirectoryInfo]::new('{folder.Path}').GetFiles('*.tar.zst') | " +
            $"Restore-TenantBackup -ConnectionString '{Unreachable}' -WhatIf");

        ps.InvokeCatching(out _);

        Assert.Equal([$"Planning restore of archive '{archive}'"], Activities(ps));
    }

    [Fact]
    public void RelativePathsAreResolvedAgainstTheCurrentLocation()
    {
        using var folder = new TempFolder();
        using var ps = PowerShellSession.Create();
        ps.AddScript(
            $"$ExecutionContext.SessionState.Path.SetLocation('{folder.Path}'); " +
            $"Restore-TenantBackup -ConnectionString '{Unreachable}' -Path a.tar.zst -WhatIf");

        ps.InvokeCatching(out _);

        Assert.Equal([$"Planning restore of archive '{Path.Combine(folder.Path, "a.tar.zst")}'"], Activities(ps));
    }

    [Fact]
    public void NoBackupNamedStopsWithInvalidArgument()
    {
        using var ps = PowerShellSession.Create();
        Restore(ps).AddParameter("Force");

        var error = ps.InvokeCatching(out var output);

        Assert.NotNull(error);
        Assert.Empty(output);
        Assert.Equal("InvalidArgument" + FullyQualified, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.NotNull(error.TargetObject);
        Assert.Empty(Activities(ps));
    }

    [Fact]
    public void IdAndPathTogetherStopWithInvalidArgument()
    {
        using var ps = PowerShellSession.Create();
        Restore(ps).AddParameter("Id", "0001").AddParameter("Path", "a.tar.zst").AddParameter("WhatIf");

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.Equal("InvalidArgument" + FullyQualified, error.FullyQualifiedErrorId);
        Assert.Empty(Activities(ps));
    }

    [Fact]
    public void APipedBackupAndAnExplicitIdStopWithInvalidArgument()
    {
        // The piped backup must not silently replace the -Id the operator typed, nor the other way round.
        using var ps = PowerShellSession.Create();
        Restore(ps).AddParameter("Id", "0009").AddParameter("WhatIf");

        var error = ps.InvokeCatching(out _, new[] { Backup("0001", "42") });

        Assert.NotNull(error);
        Assert.Equal("InvalidArgument" + FullyQualified, error.FullyQualifiedErrorId);
        Assert.Empty(Activities(ps));
    }

    [Fact]
    public void ABadConnectionStringStopsWithInvalidArgumentAndNoPassword()
    {
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Restore-TenantBackup")
            .AddParameter("ConnectionString", "Host=db1;Password=S3cr3t;Port=abc")
            .AddParameter("Id", "0001")
            .AddParameter("Force");

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.Equal("InvalidArgument" + FullyQualified, error.FullyQualifiedErrorId);
        Assert.DoesNotContain("S3cr3t", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Activities(ps));
    }

    [Fact]
    public void ServerAndConnectionStringTogetherAreRefusedByParameterBinding()
    {
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Restore-TenantBackup")
            .AddParameter("ConnectionString", "Host=a")
            .AddParameter("Server", "b")
            .AddParameter("Id", "0001");

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.StartsWith("AmbiguousParameterSet,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void TextValuesBindModeKeyCollisionAndLockTimeout()
    {
        var host = new AnsweringHost("No");
        using var ps = PowerShellSession.Create(host);
        using var runspace = ps.Runspace;
        ps.AddScript(
            $"Restore-TenantBackup 0001 -ConnectionString '{Unreachable}' -Mode merge -KeyCollision fail -LockTimeout 90 -NoPreBackup");

        ps.Invoke();

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
        var prompt = Assert.Single(host.Prompts);
        Assert.Contains("backup 0001", prompt, StringComparison.Ordinal);
        Assert.Contains("Merge: overwrite rows with the same key", prompt, StringComparison.Ordinal);
        Assert.Contains("without a safety backup", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownModeIsRefusedByParameterBinding()
    {
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Restore-TenantBackup")
            .AddParameter("Id", "0001")
            .AddParameter("ConnectionString", Unreachable)
            .AddParameter("Mode", "upsert");

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.StartsWith("CannotConvertArgumentNoMessage,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
    }
}
