using System.Text;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>
/// The built <c>tenantbackup</c> with a passphrase from the environment: backup, verify with, without and with the
/// wrong passphrase (exit 0, 0, 6), restore, and the passphrase nowhere in what the runs printed or wrote.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CliEncryptionTests(PostgresFixture fixture)
{
    private const string Passphrase = "Tr0ub4dor&3 of tenant 1";

    private static readonly Dictionary<string, string?> _right = new() { ["TB_PASSPHRASE"] = Passphrase };
    private static readonly Dictionary<string, string?> _wrong = new() { ["TB_PASSPHRASE"] = "Tr0ub4dor&4 of tenant 1" };

    [Fact]
    public async Task A_passphrase_backup_verifies_and_restores_and_the_passphrase_is_never_printed_or_written()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var connection = fixture.ConnectionStringFor(database);
        var runs = new List<CliResult>();
        async Task<CliResult> Run(Dictionary<string, string?>? environment, params string[] arguments)
        {
            var result = await CliProcess.RunAsync(arguments, environment);
            runs.Add(result);
            return result;
        }

        var backup = await Run(_right,
            "backup", "--connection", connection, "--tenant", "1", "--repository", folder.Path, "--passphrase-env", "TB_PASSPHRASE",
            "--verbose", "--json");
        Assert.True(backup.ExitCode == 0, backup.Describe());
        string path;
        using (var json = ParseStdout(backup))
        {
            Assert.True(json.RootElement.GetProperty("encrypted").GetBoolean());
            Assert.Matches("^[0-9a-f]{32}$", json.RootElement.GetProperty("keyId").GetString());
            path = json.RootElement.GetProperty("path").GetString()!;
        }

        Assert.EndsWith(".tar.zst.tbenc", path, StringComparison.Ordinal);
        await AssertSha256SumAsync(path);

        var withKey = await Run(_right, "verify", "--repository", folder.Path, "--passphrase-env", "TB_PASSPHRASE", "--verbose");
        var withoutKey = await Run(null, "verify", "--repository", folder.Path);
        var wrongKey = await Run(_wrong, "verify", "--repository", folder.Path, "--passphrase-env", "TB_PASSPHRASE");
        var refused = await Run(_wrong,
            "restore", path, "--connection", connection, "--repository", folder.Path, "--passphrase-env", "TB_PASSPHRASE", "--yes");
        var restored = await Run(_right,
            "restore", path, "--connection", connection, "--repository", folder.Path, "--passphrase-env", "TB_PASSPHRASE", "--yes",
            "--verbose", "--json");

        Assert.True(withKey.ExitCode == 0, withKey.Describe());
        Assert.Contains("all valid", withKey.Stdout, StringComparison.Ordinal);
        Assert.True(withoutKey.ExitCode == 0, withoutKey.Describe());
        Assert.Contains("no key was given", withoutKey.Stdout, StringComparison.Ordinal);
        Assert.True(wrongKey.ExitCode == 6, wrongKey.Describe());
        Assert.Contains("does not match", wrongKey.Stdout, StringComparison.Ordinal);
        Assert.True(refused.ExitCode == 6, refused.Describe());
        Assert.Contains("error DecryptionFailed", refused.Stderr, StringComparison.Ordinal);
        Assert.True(restored.ExitCode == 0, restored.Describe());

        // The safety backup of the restore is encrypted too; every file is an encrypted archive, its sidecar or the index.
        var archives = Files(folder.Path)
            .Where(f => !f.EndsWith(".sha256", StringComparison.Ordinal) && !f.Contains("backups.json", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(2, archives.Count);
        Assert.All(archives, f => Assert.EndsWith(".tbenc", f, StringComparison.Ordinal));
        byte[] secret = Encoding.UTF8.GetBytes(Passphrase);
        foreach (var run in runs)
        {
            Assert.DoesNotContain(Passphrase, run.CommandLine + run.Stdout + run.Stderr, StringComparison.Ordinal);
        }

        foreach (var file in Files(folder.Path))
        {
            Assert.True((await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(secret) < 0, $"{file} holds the passphrase");
        }

        await fixture.DropDatabaseAsync(database);
    }
}
