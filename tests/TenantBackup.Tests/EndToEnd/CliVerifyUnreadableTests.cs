using System.Runtime.Versioning;
using System.Text.Json;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Repository;
using Xunit;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>
/// An archive the process may not read is <c>Unreadable</c>, not Corrupt or Missing: the file may be whole, and the
/// operator's fix is its permissions. Root reads every file, so as root the CLI runs as the <c>postgres</c> user (the
/// user the suite's server runs as) on a repository that user owns, with the archive left to root alone.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class CliVerifyUnreadableTests
{
    private const string OtherUser = "postgres";

    [Fact]
    public async Task An_archive_the_process_may_not_read_is_Unreadable_exits_3_and_is_so_recorded_without_being_marked_corrupt()
    {
        using var repository = new SyncRepository();
        var entry = await repository.AddAsync("7");
        string archive = repository.PathOf(entry);
        bool root = Environment.UserName == "root";
        if (root)
        {
            var chown = await ProcessRunner.RunAsync("chown", ["-R", OtherUser, repository.Root], TimeSpan.FromSeconds(30));
            Assert.True(chown.Succeeded, chown.Output);
            chown = await ProcessRunner.RunAsync("chown", ["root", archive], TimeSpan.FromSeconds(30));
            Assert.True(chown.Succeeded, chown.Output);
        }

        File.SetUnixFileMode(archive, root ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.None);
        try
        {
            var verify = await CliProcess.RunAsync(
                ["verify", entry.Id, "--repository", repository.Root, "--json"], asUser: root ? OtherUser : null);

            Assert.True(verify.ExitCode == 3, verify.Describe());
            using var json = JsonDocument.Parse(verify.Stdout);
            var result = Assert.Single(json.RootElement.EnumerateArray().ToList());
            Assert.Equal("unreadable", result.GetProperty("status").GetString());
            var file = result.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "file");
            Assert.Contains("cannot be read", file.GetProperty("message").GetString(), StringComparison.Ordinal);
            var recorded = repository.Indexed(entry.Id);
            Assert.Equal("Unreadable", recorded.LastVerifyResult);
            Assert.NotEqual(BackupStatus.Corrupt, recorded.Status);
        }
        finally
        {
            File.SetUnixFileMode(archive, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
