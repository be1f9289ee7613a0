using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>The built <c>tenantbackup</c> as a child process: backups that succeed, and what scripts can rely on in them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliBackupTests(PostgresFixture fixture)
{
    [Fact]
    public async Task BackupThenListJson_PrintOnlyJson_AndTheArchivePassesSha256sumAndTar()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var repository = Path.Combine(folder.Path, "repository"); // the backup creates it

        // No --connection: the standard PG* variables say where the database is, as for psql.
        var backup = await CliProcess.RunAsync(
            ["backup", "--tenant", "2", "--repository", repository, "--json"], fixture.EnvironmentFor(database));

        Assert.True(backup.ExitCode == 0, backup.Describe());
        string id;
        using (var backupJson = ParseStdout(backup))
        {
            var result = backupJson.RootElement;
            id = result.GetProperty("id").GetString()!;
            Assert.Equal("2", result.GetProperty("tenant").GetString());
            Assert.Equal(TestSchema.TotalRows(2), result.GetProperty("rowCount").GetInt64());
            Assert.Equal(TestSchema.ScopedTables.Count, result.GetProperty("tableCount").GetInt32());
        }

        var list = await CliProcess.RunAsync(["list", "--repository", repository, "--json"]);

        Assert.True(list.ExitCode == 0, list.Describe());
        Assert.Empty(list.Stderr);
        using var listJson = ParseStdout(list);
        var entry = Assert.Single(listJson.RootElement.EnumerateArray());
        Assert.Equal(id, entry.GetProperty("id").GetString());
        Assert.Equal("2", entry.GetProperty("tenant").GetString());
        Assert.Equal("available", entry.GetProperty("status").GetString());
        Assert.Equal("zstd", entry.GetProperty("compression").GetString());
        var archive = entry.GetProperty("path").GetString()!;
        Assert.True(File.Exists(archive), $"list --json names {archive}, which does not exist.{Environment.NewLine}{list.Describe()}");
        Assert.Equal(Path.GetFullPath(repository), Path.GetDirectoryName(archive));
        Assert.EndsWith(".tar.zst", archive, StringComparison.Ordinal);
        Assert.Equal(new FileInfo(archive).Length, entry.GetProperty("size").GetInt64());

        Assert.Equal(new[] { (id, Path.GetFileName(archive)) }, IndexEntries(repository));
        Assert.Equal([archive], Archives(repository));
        AssertOnlyBackupFiles(repository);
        await AssertSha256SumAsync(archive);
        var entries = await AssertTarListingAsync(archive, "--zstd", "-tf");
        Assert.Contains(
            entries, e => e.StartsWith("data/", StringComparison.Ordinal) && e.Contains("public.invoice_lines", StringComparison.Ordinal));
        await fixture.DropDatabaseAsync(database);
    }

    [Theory]
    [InlineData("gzip", ".tar.gz", "-tzf")]
    [InlineData("none", ".tar", "-tf")]
    public async Task OtherCompressions_GiveArchivesPlainTarCanList(string compression, string extension, string tarFlags)
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();

        var backup = await CliProcess.RunAsync(
        [
            "backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "3", "--repository", folder.Path,
            "--compression", compression, "--json",
        ]);

        Assert.True(backup.ExitCode == 0, backup.Describe());
        using var json = ParseStdout(backup);
        var archive = json.RootElement.GetProperty("path").GetString()!;
        Assert.Equal(compression, json.RootElement.GetProperty("compression").GetString());
        Assert.EndsWith(extension, archive, StringComparison.Ordinal);
        Assert.Equal([archive], Archives(folder.Path));
        AssertOnlyBackupFiles(folder.Path);
        await AssertSha256SumAsync(archive);
        await AssertTarListingAsync(archive, tarFlags);
        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task TwoBackupsOfOneTenantAtTheSameMoment_BothSucceedWithDistinctIds()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        string[] arguments =
            ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "1", "--repository", folder.Path, "--json"];

        using var first = CliProcess.Start(arguments);
        using var second = CliProcess.Start(arguments);
        var results = await Task.WhenAll(first.WaitAsync(TimeSpan.FromSeconds(60)), second.WaitAsync(TimeSpan.FromSeconds(60)));

        var ids = new List<string>();
        foreach (var result in results)
        {
            Assert.True(result.ExitCode == 0, result.Describe());
            using var json = ParseStdout(result);
            ids.Add(json.RootElement.GetProperty("id").GetString()!);
            Assert.Equal(TestSchema.TotalRows(1), json.RootElement.GetProperty("rowCount").GetInt64());
        }

        Assert.NotEqual(ids[0], ids[1]);
        var index = IndexEntries(folder.Path);
        Assert.Equal(ids.Order(StringComparer.Ordinal), index.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Equal(2, index.Select(e => e.Path).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(2, Archives(folder.Path).Count);
        AssertOnlyBackupFiles(folder.Path);
        foreach (var archive in Archives(folder.Path))
        {
            await AssertSha256SumAsync(archive);
        }

        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }
}
