using System.Management.Automation;
using TenantBackup.Engine;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>New-TenantBackup and Get-TenantBackup run by a real PowerShell engine in the test process.</summary>
public class CmdletPipelineTests
{
    [Fact]
    public void WhatIfWritesNothing()
    {
        using var repository = new TempFolder();
        using var ps = PowerShellSession.Create();
        ps.AddCommand("New-TenantBackup")
            .AddParameter("Server", "db1.invalid")
            .AddParameter("Database", "app")
            .AddParameter("Tenant", "42")
            .AddParameter("Repository", repository.Path)
            .AddParameter("WhatIf");

        var output = ps.Invoke();

        Assert.Empty(output);
        Assert.False(ps.HadErrors);
        Assert.Empty(Directory.EnumerateFileSystemEntries(repository.Path));
    }

    [Fact]
    public void WhatIfTakesEveryTenantFromThePipeline()
    {
        using var repository = new TempFolder();
        using var ps = PowerShellSession.Create();
        ps.AddCommand("New-TenantBackup")
            .AddParameter("ConnectionString", "Host=db1.invalid")
            .AddParameter("Repository", repository.Path)
            .AddParameter("WhatIf");

        var output = ps.Invoke(new object[]
        {
            1, "2", GetTenantBackupFilterTests.Backup("0001", "3", BackupKinds.Full, DateTimeOffset.UnixEpoch, repository.Path),
        });

        Assert.Empty(output);
        Assert.False(ps.HadErrors);
    }

    [Fact]
    public void ABadConnectionStringStopsWithInvalidArgumentAndNoPassword()
    {
        using var repository = new TempFolder();
        using var ps = PowerShellSession.Create();
        ps.AddCommand("New-TenantBackup")
            .AddParameter("ConnectionString", "Host=db1;Password=S3cr3t;Port=abc")
            .AddParameter("Tenant", "42")
            .AddParameter("Repository", repository.Path);

        var error = ps.InvokeCatching(out var output);

        Assert.NotNull(error);
        Assert.Empty(output);
        Assert.Equal("InvalidArgument,TenantBackup.PowerShell.Commands.NewTenantBackupCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.NotNull(error.TargetObject);
        Assert.DoesNotContain("S3cr3t", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(repository.Path));
    }

    [Fact]
    public void ServerAndConnectionStringTogetherAreRefusedByParameterBinding()
    {
        using var ps = PowerShellSession.Create();
        ps.AddCommand("New-TenantBackup")
            .AddParameter("ConnectionString", "Host=a")
            .AddParameter("Server", "b")
            .AddParameter("Tenant", "42");

        var error = ps.InvokeCatching(out _);

        Assert.NotNull(error);
        Assert.StartsWith("AmbiguousParameterSet,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void LockTimeoutBindsSecondsThroughTheRealBinder()
    {
        using var repository = new TempFolder();
        using var ps = PowerShellSession.Create();
        ps.AddScript(
            $"New-TenantBackup -Tenant 42 -ConnectionString 'Host=db1.invalid' -Repository '{repository.Path}' " +
            "-LockTimeout 90 -Compression gzip -WhatIf");

        ps.Invoke();

        Assert.False(ps.HadErrors, string.Join(Environment.NewLine, ps.Streams.Error));
    }

    [Fact]
    public void BackupInfoFromThePipelineBindsIdTenantAndRepositoryOfGetTenantBackup()
    {
        // An empty repository has no backup with that id, and the error names it: that the id and the repository of the
        // piped object were used shows the by-property-name binding.
        using var repository = new TempFolder();
        Engine.Repository.BackupRepository.Open(repository.Path, create: true);
        using var ps = PowerShellSession.Create();
        ps.AddCommand("Get-TenantBackup");

        var output = ps.Invoke(new[]
        {
            GetTenantBackupFilterTests.Backup(
                "01JB0000000000000000000000", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch, repository.Path),
        });

        Assert.Empty(output);
        var error = Assert.Single(ps.Streams.Error);
        Assert.Equal("ArchiveNotFound,TenantBackup.PowerShell.Commands.GetTenantBackupCommand", error.FullyQualifiedErrorId);
        Assert.Equal("01JB0000000000000000000000", error.TargetObject);
    }
}
