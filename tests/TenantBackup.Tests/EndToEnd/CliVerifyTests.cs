using System.Text.Json;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>The built <c>tenantbackup verify</c> on backups it made itself: exit 0 while all are valid, 3 once one is not.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliVerifyTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Verify_exits_0_for_a_sound_repository_and_3_once_an_archive_is_damaged()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var connection = fixture.ConnectionStringFor(database);
        var backup = await CliProcess.RunAsync(
            ["backup", "--connection", connection, "--tenant", "1", "--repository", folder.Path, "--json"]);
        Assert.True(backup.ExitCode == 0, backup.Describe());
        string id;
        string path;
        using (var json = ParseStdout(backup))
        {
            id = json.RootElement.GetProperty("id").GetString()!;
            path = json.RootElement.GetProperty("path").GetString()!;
        }

        var sound = await CliProcess.RunAsync(["verify", "--repository", folder.Path]);
        var tested = await CliProcess.RunAsync(
            ["verify", id, "--repository", folder.Path, "--restore-test", "--connection", connection, "--json"]);
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x04;
        await File.WriteAllBytesAsync(path, bytes);
        var damaged = await CliProcess.RunAsync(["verify", path, "--json"]);

        Assert.True(sound.ExitCode == 0, sound.Describe());
        Assert.Contains("all valid", sound.Stdout, StringComparison.Ordinal);
        Assert.True(tested.ExitCode == 0, tested.Describe());
        using (var json = ParseStdout(tested))
        {
            var result = Assert.Single(json.RootElement.EnumerateArray().ToList());
            Assert.Equal("valid", result.GetProperty("status").GetString());
            Assert.True(result.GetProperty("passed").GetBoolean());
            Assert.Contains(result.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "restore-test"
                && c.GetProperty("outcome").GetString() == "passed");
            Assert.True(result.GetProperty("restoreTest").GetProperty("inserted").GetInt64() > 0);
        }

        Assert.True(damaged.ExitCode == 3, damaged.Describe());
        using (var json = ParseStdout(damaged))
        {
            var result = Assert.Single(json.RootElement.EnumerateArray().ToList());
            Assert.Equal("corrupt", result.GetProperty("status").GetString());
            Assert.Equal(id, result.GetProperty("id").GetString());
            Assert.Contains(
                result.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("sha256-file:", StringComparison.Ordinal));
        }

        var list = await CliProcess.RunAsync(["list", "--repository", folder.Path, "--json"]);
        using (var json = ParseStdout(list))
        {
            var entry = Assert.Single(json.RootElement.EnumerateArray().ToList());
            Assert.Equal("corrupt", entry.GetProperty("status").GetString());
            Assert.Equal("Corrupt", entry.GetProperty("lastVerifyResult").GetString());
            Assert.Equal(JsonValueKind.String, entry.GetProperty("lastVerifiedAt").ValueKind);
        }

        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task Verify_of_a_repository_that_does_not_exist_is_an_error_and_a_bad_option_is_usage()
    {
        using var folder = new TempFolder();

        var missing = await CliProcess.RunAsync(["verify", "--repository", Path.Combine(folder.Path, "nope")]);
        var usage = await CliProcess.RunAsync(["verify", "--connection", "Host=x"]);

        Assert.True(missing.ExitCode == 1, missing.Describe());
        Assert.Contains("RepositoryError", missing.Stderr, StringComparison.Ordinal);
        Assert.True(usage.ExitCode == 2, usage.Describe());
    }
}
