using System.Management.Automation;
using System.Text;
using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Backup;
using TenantBackup.Tests.EndToEnd;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// A backup, a verify (with a test restore) and a restore by a role whose password the server checks, through the CLI
/// (password from <c>PGPASSWORD</c>, then from <c>~/.pgpass</c>) and through the cmdlets (<c>Password=</c> in the connection
/// string); then every stream, message, result and file those runs produced, archives decompressed, is searched for the
/// password. A wrong password fails with a message that does not contain it either.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SecretsTests(PostgresFixture fixture)
{
    [Fact]
    public async Task The_cli_never_shows_or_stores_the_password_from_PGPASSWORD_or_pgpass()
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        await using var role = await PasswordRole.CreateAsync(fixture);
        string home = tenant.Folder("tb-secret-home-");
        var seen = new List<(string Where, string Text)>();
        var environment = new Dictionary<string, string?>(fixture.EnvironmentFor(tenant.Database))
        {
            ["PGUSER"] = role.Name,
            ["PGPASSWORD"] = role.Password,
            ["HOME"] = home,
        };

        string id = await RunCliAsync(seen, environment, tenant, "PGPASSWORD");
        File.WriteAllText(Path.Combine(home, ".pgpass"), $"*:*:*:{role.Name}:{role.Password}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(home, ".pgpass"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        environment["PGPASSWORD"] = null;
        string second = await RunCliAsync(seen, environment, tenant, ".pgpass");
        Assert.NotEqual(id, second);

        string wrong = "pw" + Guid.NewGuid().ToString("N");
        environment["PGPASSWORD"] = wrong;
        var failed = await CliProcess.RunAsync(["backup", "--tenant", "1", "--repository", tenant.Repository, "--verbose"], environment);
        if (role.Enforced)
        {
            Assert.True(failed.ExitCode == 1, failed.Describe());
            Assert.Contains("password", failed.Stderr, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(wrong, failed.Stdout + failed.Stderr, StringComparison.Ordinal);
        seen.Add(("the failed backup's output", failed.Stdout + failed.Stderr));

        AssertNowhere(role.Password, seen, tenant.Repository, home, Path.GetDirectoryName(tenant.Files)!);
    }

    [Fact]
    public async Task The_cmdlets_never_show_or_store_the_password_from_the_connection_string()
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        await using var role = await PasswordRole.CreateAsync(fixture);
        string cs = role.ConnectionStringFor(tenant.Database);
        var seen = new List<(string Where, string Text)>();

        var backup = Run(seen, "New-TenantBackup", new()
        {
            ["ConnectionString"] = cs, ["Tenant"] = "1", ["Repository"] = tenant.Repository, ["IncludePath"] = new[] { tenant.Files },
        });
        string id = (string)backup.Single().Properties["Id"].Value;
        Run(seen, "Test-BackupIntegrity", new()
        {
            ["Id"] = new[] { id }, ["Repository"] = tenant.Repository, ["RestoreTest"] = true, ["ConnectionString"] = cs,
        });
        Run(seen, "Restore-TenantBackup", new()
        {
            ["Id"] = id, ["Repository"] = tenant.Repository, ["ConnectionString"] = cs, ["Force"] = true, ["Confirm"] = false,
        });

        string wrong = "pw" + Guid.NewGuid().ToString("N");
        using (var ps = PowerShellSession.Create())
        {
            ps.AddCommand("New-TenantBackup").AddParameter("ConnectionString", role.ConnectionStringFor(tenant.Database, wrong))
                .AddParameter("Tenant", "1").AddParameter("Repository", tenant.Repository);
            var error = ps.InvokeCatching(out _) ?? ps.Streams.Error.FirstOrDefault();
            if (role.Enforced)
            {
                Assert.NotNull(error);
            }

            string shown = Describe(error) + Streams(ps);
            Assert.DoesNotContain(wrong, shown, StringComparison.Ordinal);
            seen.Add(("the failed cmdlet", shown));
        }

        var engineError = await Record.ExceptionAsync(() => new BackupEngine().BackupAsync(
            new BackupRequest
            {
                ConnectionString = role.ConnectionStringFor(tenant.Database, wrong), Tenant = "1", Repository = tenant.Repository,
            },
            null,
            CancellationToken.None));
        if (role.Enforced)
        {
            var typed = Assert.IsType<TenantBackupException>(engineError);
            Assert.Contains("password", typed.Message, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(wrong, engineError?.ToString() ?? "", StringComparison.Ordinal);
        AssertNowhere(role.Password, seen, tenant.Repository, Path.GetDirectoryName(tenant.Files)!);
    }

    private static async Task<string> RunCliAsync(
        List<(string Where, string Text)> seen, Dictionary<string, string?> environment, SmallTenant tenant, string source)
    {
        var backup = await CliProcess.RunAsync(
            ["backup", "--tenant", "1", "--repository", tenant.Repository, "--include-path", tenant.Files, "--verbose", "--json"],
            environment);
        Assert.True(backup.ExitCode == 0, backup.Describe());
        string id = JsonDocument.Parse(backup.Stdout).RootElement.GetProperty("id").GetString()!;
        var verify = await CliProcess.RunAsync(
            ["verify", id, "--repository", tenant.Repository, "--restore-test", "--verbose", "--json"], environment);
        Assert.True(verify.ExitCode == 0, verify.Describe());
        var restore = await CliProcess.RunAsync(
            ["restore", id, "--repository", tenant.Repository, "--yes", "--verbose", "--json"], environment);
        Assert.True(restore.ExitCode == 0, restore.Describe());
        foreach (var (what, result) in new[] { ("backup", backup), ("verify", verify), ("restore", restore) })
        {
            seen.Add(($"{what} with {source}: command line", result.CommandLine));
            seen.Add(($"{what} with {source}: stdout", result.Stdout));
            seen.Add(($"{what} with {source}: stderr", result.Stderr));
        }

        return id;
    }

    /// <summary>Runs one cmdlet with -Verbose and keeps its output objects (as JSON) and every stream.</summary>
    private static List<PSObject> Run(List<(string Where, string Text)> seen, string command, Dictionary<string, object> parameters)
    {
        using var ps = PowerShellSession.Create();
        ps.AddCommand(command).AddParameters(parameters).AddParameter("Verbose");
        var error = ps.InvokeCatching(out var output);
        Assert.True(error is null && ps.Streams.Error.Count == 0, $"{command}: {Describe(error ?? ps.Streams.Error.FirstOrDefault())}");
        seen.Add(($"{command}: output", string.Join("\n", output.Select(o => JsonSerializer.Serialize(o.BaseObject)))));
        seen.Add(($"{command}: streams", Streams(ps)));
        return output.ToList();
    }

    private static string Streams(System.Management.Automation.PowerShell ps) => string.Join(
        "\n",
        ps.Streams.Verbose.Select(v => "verbose: " + v.Message)
            .Concat(ps.Streams.Warning.Select(w => "warning: " + w.Message))
            .Concat(ps.Streams.Debug.Select(d => "debug: " + d.Message))
            .Concat(ps.Streams.Information.Select(i => "information: " + i.MessageData))
            .Concat(ps.Streams.Progress.Select(p => $"progress: {p.Activity} {p.StatusDescription} {p.CurrentOperation}"))
            .Concat(ps.Streams.Error.Select(Describe)));

    private static string Describe(ErrorRecord? error) => error is null
        ? ""
        : $"{error.FullyQualifiedErrorId} {error.CategoryInfo} {error.TargetObject} {error.ErrorDetails?.Message} {error.Exception}";

    /// <summary>Fails naming every place that holds <paramref name="password"/>: a captured text, a file, an archive's content.</summary>
    private static void AssertNowhere(string password, List<(string Where, string Text)> seen, params string[] folders)
    {
        var leaks = seen.Where(s => s.Text.Contains(password, StringComparison.Ordinal)).Select(s => s.Where).ToList();
        byte[] needle = Encoding.UTF8.GetBytes(password);
        int files = 0;
        // The password file is where the password is meant to be.
        var produced = folders.SelectMany(f => Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories))
            .Where(f => Path.GetFileName(f) != ".pgpass");
        foreach (string file in produced)
        {
            files++;
            byte[] bytes = File.ReadAllBytes(file);
            if (bytes.AsSpan().IndexOf(needle) >= 0)
            {
                leaks.Add(file);
            }

            if (file.EndsWith(".tar.zst", StringComparison.Ordinal) || file.EndsWith(".tar.gz", StringComparison.Ordinal))
            {
                using var tar = new MemoryStream();
                using (var reading = CompressionStreams.OpenRead(new MemoryStream(bytes)))
                {
                    reading.CopyTo(tar);
                }

                if (tar.ToArray().AsSpan().IndexOf(needle) >= 0)
                {
                    leaks.Add(file + " (decompressed)");
                }
            }
        }

        Assert.True(files >= 6, $"only {files} files were searched");
        Assert.True(leaks.Count == 0, "The password appears in: " + string.Join(", ", leaks));
    }
}
