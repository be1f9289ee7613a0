using System.Management.Automation;
using System.Reflection;
using TenantBackup.Cli;
using TenantBackup.Cli.Commands;
using TenantBackup.Engine;
using TenantBackup.Engine.Integrity;
using TenantBackup.PowerShell.Commands;
using Xunit;
using static TenantBackup.Tests.FrontEnds.CmdletMetadataTests;
using static TenantBackup.Tests.FrontEnds.NewTenantBackupRequestTests;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>Test-BackupIntegrity's and <c>tenantbackup verify</c>'s parameters → IntegrityRequest, and the cmdlet's metadata.</summary>
public class TestBackupIntegrityTests
{
    private static readonly Func<string, string> FromHome = path => Path.IsPathRooted(path) ? path : "/home/op/" + path;

    [Fact]
    public void CommandLineSourcesReachTheRequest()
    {
        var command = new TestBackupIntegrityCommand { Id = ["a", "b"], Path = ["x.tar.zst"], Repository = "repo", Quick = true };

        var request = command.BuildRequest(resolvePath: FromHome);

        Assert.Equal(["a", "b"], request.Ids);
        Assert.Equal(["/home/op/x.tar.zst"], request.Paths);
        Assert.Equal("/home/op/repo", request.Repository);
        Assert.True(request.Quick);
        Assert.False(request.RestoreTest);
        Assert.Null(request.ConnectionString);
    }

    [Fact]
    public void NoSourceMeansTheWholeRepository()
    {
        var request = new TestBackupIntegrityCommand().BuildRequest(resolvePath: FromHome);

        Assert.Empty(request.Ids);
        Assert.Empty(request.Paths);
        Assert.Null(request.Repository);
    }

    [Fact]
    public void PipedBackupsAreCheckedByTheirFileInTheirRepository()
    {
        var backup = GetTenantBackupFilterTests.Backup(
            "0192f0c1-0000-7000-8000-000000000042", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch, "/var/backups");
        var command = new TestBackupIntegrityCommand { Id = ["ignored"] };

        var request = command.BuildRequest([backup], FromHome);

        Assert.Equal([backup.Path], request.Paths);
        Assert.Empty(request.Ids);
        Assert.Equal("/var/backups", request.Repository);
    }

    [Fact]
    public void APipedObjectThatNamesNoBackupIsRefusedRatherThanCheckingEverything()
    {
        var empty = new BackupInfo
        {
            Id = "", Tenant = "", TenantColumn = "", Kind = "", Database = "", Path = "", Repository = "", Sha256 = "",
            Compression = "", Status = "", CreatedAt = DateTimeOffset.UnixEpoch, TableCount = 0, RowCount = 0, Size = 0,
        };

        var error = Assert.Throws<TenantBackupException>(() => new TestBackupIntegrityCommand().BuildRequest([empty]));

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void TheConnectionGoesToTheRequestOnlyWithRestoreTest()
    {
        var command = new TestBackupIntegrityCommand { RestoreTest = true, ConnectionString = "Host=db1;Database=app;Username=check" };

        var request = command.BuildRequest();

        Assert.True(request.RestoreTest);
        var parts = ParseConnectionString(request.ConnectionString!);
        Assert.Equal(("db1", "app", "check"), (parts["Host"], parts["Database"], parts["Username"]));
    }

    [Fact]
    public void TheCmdletTakesBackupsFromThePipelineByValueOrPropertyNameAndOutputsIntegrityResults()
    {
        var type = typeof(TestBackupIntegrityCommand);
        var attribute = type.GetCustomAttribute<CmdletAttribute>()!;
        var parameters = new CmdletInfo("Test-BackupIntegrity", type).Parameters;

        Assert.Equal((VerbsDiagnostic.Test, "BackupIntegrity"), (attribute.VerbName, attribute.NounName));
        Assert.False(attribute.SupportsShouldProcess);
        Assert.Equal(
            [typeof(IntegrityResult)], type.GetCustomAttributes<OutputTypeAttribute>().SelectMany(a => a.Type).Select(t => t.Type));
        Assert.Equal(typeof(BackupInfo[]), parameters["InputObject"].ParameterType);
        Assert.All(parameters["InputObject"].ParameterSets.Values, set => Assert.True(set.ValueFromPipeline));
        Assert.Equal(typeof(string[]), parameters["Id"].ParameterType);
        Assert.Equal(typeof(string[]), parameters["Path"].ParameterType);
        Assert.Contains("FullName", parameters["Path"].Aliases);
        Assert.All((string[])["Quick", "RestoreTest"], name => Assert.Equal(typeof(SwitchParameter), parameters[name].ParameterType));
        Assert.All((string[])["InputObject", "Id", "Path", "ConnectionString"], name =>
            Assert.All(parameters[name].ParameterSets.Values, set => Assert.False(set.IsMandatory)));
        Assert.Equal(["Id", "Path", "Repository"], PipelineBindings(typeof(BackupInfo), type).Order(StringComparer.Ordinal));
        Assert.Equal(["Path"], PipelineBindings(typeof(FileInfo), type));
    }

    [Fact]
    public void TheCliSplitsIdsFromPathsAndTakesTheConnectionOnlyWithRestoreTest()
    {
        var parseResult = Program.Parse(["verify", "0192f0c1-0000-7000-8000-000000000042", "old/backup.tar.zst", "--repository", "/r"]);
        Assert.Empty(parseResult.Errors);
        var request = VerifyCommand.BuildRequest(parseResult);

        Assert.Equal(["0192f0c1-0000-7000-8000-000000000042"], request.Ids);
        Assert.Equal([Path.GetFullPath("old/backup.tar.zst")], request.Paths);
        Assert.Equal("/r", request.Repository);
        Assert.NotEmpty(Program.Parse(["verify", "--connection", "Host=x"]).Errors);
        Assert.NotEmpty(Program.Parse(["verify", "--quick", "--restore-test"]).Errors);
        var test = VerifyCommand.BuildRequest(Program.Parse(["verify", "--restore-test", "--connection", "Host=db1;Database=app"]));
        Assert.True(test.RestoreTest);
        Assert.Equal("db1", ParseConnectionString(test.ConnectionString!)["Host"]);
    }
}
