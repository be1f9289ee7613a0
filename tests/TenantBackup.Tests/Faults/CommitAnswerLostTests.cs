using System.Text.Json;
using Npgsql;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// <c>tenantbackup restore</c> (rows and tenant files) whose connection breaks at COMMIT, so that the server's answer never
/// comes: the CLI connects through a <see cref="TcpProxy"/>, waits at <c>restore.swapped</c> (tenant folder swapped,
/// COMMIT next), and the proxy either cuts the connection (COMMIT never reaches the server, which rolls back) or lets
/// COMMIT through and drops the answer (the server commits). The restore must ask the server on a new connection and
/// leave the rows and the folder agreeing: both as before, or both restored; never the restored rows with the old files.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitAnswerLostTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Cut_before_COMMIT_reaches_the_server_puts_the_files_back_and_says_the_server_rolled_back()
    {
        await using var scene = await Scene.CreateAsync(fixture);
        var index = await File.ReadAllBytesAsync(Path.Combine(scene.Repository, "backups.json"));

        var result = await scene.RestoreAsync(proxy => proxy.CutAll());

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Empty(result.Stdout);
        Assert.True(result.Stderr.Contains("tenantbackup: error ConnectionFailed:", StringComparison.Ordinal), result.Describe());
        Assert.True(
            result.Stderr.Contains("the server rolled it back: rows and files are as before", StringComparison.Ordinal), result.Describe());
        await scene.AssertRowsAsBeforeAsync();
        Assert.Equal(scene.BeforeFiles, RestoreKillTests.ReadFiles(scene.Files));
        Assert.Empty(scene.Leftovers());

        // Known to be rolled back: the safety backup is removed again, as after any failure before COMMIT.
        Assert.Equal(index, await File.ReadAllBytesAsync(Path.Combine(scene.Repository, "backups.json")));
        AssertOnlyBackupFiles(scene.Repository);
        await AssertNoTenantBackupSessionAsync(fixture, scene.Database);
    }

    [Fact]
    public async Task Answer_to_a_COMMIT_the_server_carried_out_lost_reports_the_restore_done_with_rows_and_files_restored()
    {
        await using var scene = await Scene.CreateAsync(fixture);

        var result = await scene.RestoreAsync(proxy => proxy.LoseNextAnswers());

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.True(
            result.Stderr.Contains("but the server committed it: the tenant is restored (rows and files)", StringComparison.Ordinal),
            result.Describe());
        using var json = ParseStdout(result);
        var safetyId = json.RootElement.GetProperty("preRestoreBackupId").GetString();
        Assert.Equal(scene.RestoredRows, await TableDump.FingerprintAsync(scene.Connection));
        Assert.Equal(scene.RestoredFiles, RestoreKillTests.ReadFiles(scene.Files));
        Assert.Empty(scene.Leftovers());

        // A restore like any other: its safety backup is kept and the restore is in the backup's history.
        Assert.Equal([scene.BackupId, safetyId], IndexEntries(scene.Repository).Select(e => e.Id).Order(StringComparer.Ordinal));
        using var index = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scene.Repository, "backups.json")));
        var entry = index.RootElement.GetProperty("backups").EnumerateArray()
            .Single(e => e.GetProperty("id").GetString() == scene.BackupId);
        Assert.Equal(safetyId, Assert.Single(entry.GetProperty("restores").EnumerateArray()).GetProperty("preRestoreBackupId").GetString());
        await AssertNoTenantBackupSessionAsync(fixture, scene.Database);
    }

    [Fact]
    public async Task Server_unreachable_after_the_cut_leaves_the_swap_journaled_and_the_next_restore_settles_it()
    {
        await using var scene = await Scene.CreateAsync(fixture);

        var result = await scene.RestoreAsync(proxy =>
        {
            proxy.RefuseNew();
            proxy.CutAll();
        });

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.True(result.Stderr.Contains("tenantbackup: error ConnectionFailed:", StringComparison.Ordinal), result.Describe());
        Assert.True(
            result.Stderr.Contains("could not reach the server to ask whether it committed", StringComparison.Ordinal), result.Describe());
        Assert.True(result.Stderr.Contains("is settled by the next restore of this tenant", StringComparison.Ordinal), result.Describe());

        // The server rolled back (COMMIT never reached it), but the restore could not learn that: the swap stays as it was
        // at COMMIT, journaled, with the old folder whole beside it, and the safety backup is kept.
        await scene.AssertRowsAsBeforeAsync();
        Assert.Equal(scene.RestoredFiles, RestoreKillTests.ReadFiles(scene.Files));
        var journal = Assert.Single(scene.Leftovers(), p => p.EndsWith(".swap", StringComparison.Ordinal));
        Assert.True(result.Stderr.Contains(journal, StringComparison.Ordinal), result.Describe());
        var old = Assert.Single(scene.Leftovers(), p => p.Contains(".pre-restore-", StringComparison.Ordinal));
        Assert.Equal(scene.BeforeFiles, RestoreKillTests.ReadFiles(old));
        Assert.Equal(2, IndexEntries(scene.Repository).Count);
        await AssertNoTenantBackupSessionAsync(fixture, scene.Database);

        // The journal names the server by the address the restore used, so the next restore comes the same way.
        scene.Proxy.AcceptNew();
        var log = new WarningLog();
        await new RestoreEngine(log).RestoreAsync(
            new() { ConnectionString = scene.ViaProxy, BackupId = scene.BackupId, Repository = scene.Repository },
            null,
            CancellationToken.None);
        Assert.True(log.Has("did not finish its swap"), log.ToString());
        Assert.Equal(scene.RestoredRows, await TableDump.FingerprintAsync(scene.Connection));
        Assert.Equal(scene.RestoredFiles, RestoreKillTests.ReadFiles(scene.Files));
        Assert.Empty(scene.Leftovers());
    }

    /// <summary>Tenant 2 backed up with its files, then changed (rows and files), with a proxy in front of the server.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly PostgresFixture _fixture;
        private readonly TempFolder _folder = new();
        private TcpProxy? _proxy;

        private Scene(PostgresFixture fixture) => _fixture = fixture;

        public string Database { get; private set; } = "";

        public string Repository => Path.Combine(_folder.Path, "repo");

        public string Files => Path.Combine(_folder.Path, "tenant-2-files");

        public NpgsqlConnection Connection { get; private set; } = null!;

        public string BackupId { get; private set; } = "";

        public TcpProxy Proxy => _proxy!;

        public string ViaProxy =>
            new NpgsqlConnectionStringBuilder(_fixture.ConnectionStringFor(Database)) { Host = "127.0.0.1", Port = Proxy.Port }
                .ConnectionString;

        public string RestoredRows { get; private set; } = "";

        public SortedDictionary<string, string>? RestoredFiles { get; private set; }

        public IReadOnlyDictionary<string, IReadOnlyList<string>> BeforeRows { get; private set; } =
            new Dictionary<string, IReadOnlyList<string>>();

        public SortedDictionary<string, string>? BeforeFiles { get; private set; }

        public static async Task<Scene> CreateAsync(PostgresFixture fixture)
        {
            var scene = new Scene(fixture);
            RestoreKillTests.WriteFiles(scene.Files, new() { ["logo.txt"] = "v1", ["invoices/2025-001.txt"] = "invoice" });
            scene.RestoredFiles = RestoreKillTests.ReadFiles(scene.Files);
            scene.Database = await fixture.CreateTenantDatabaseAsync();
            scene.Connection = await fixture.OpenConnectionAsync(scene.Database);
            var backup = await new BackupEngine().BackupAsync(
                new()
                {
                    ConnectionString = fixture.ConnectionStringFor(scene.Database),
                    Tenant = "2",
                    Repository = scene.Repository,
                    IncludePaths = [scene.Files],
                },
                null,
                CancellationToken.None);
            scene.BackupId = backup.Id;
            scene.RestoredRows = await TableDump.FingerprintAsync(scene.Connection);

            await RestoreKillTests.ExecuteAsync(scene.Connection, "UPDATE customers SET name = name || ' (changed)' WHERE tenant_id = 2");
            RestoreKillTests.WriteFiles(scene.Files, new() { ["logo.txt"] = "v2", ["new.txt"] = "added after the backup" });
            File.Delete(Path.Combine(scene.Files, "invoices", "2025-001.txt"));
            scene.BeforeRows = await TableDump.SnapshotAsync(scene.Connection);
            scene.BeforeFiles = RestoreKillTests.ReadFiles(scene.Files);
            Assert.NotEqual(scene.RestoredRows, TableDump.Fingerprint(scene.BeforeRows));
            scene._proxy = TcpProxy.Start(fixture.Host, fixture.Port);
            return scene;
        }

        /// <summary>Restores through the proxy, doing <paramref name="fault"/> to it while the CLI waits with COMMIT next.</summary>
        public async Task<EndToEnd.CliResult> RestoreAsync(Action<TcpProxy> fault)
        {
            using var paused = await PausedCli.StartAsync(
                ["restore", BackupId, "--connection", ViaProxy, "--repository", Repository, "--yes", "--json"],
                "restore.swapped");
            fault(Proxy);
            return await paused.ResumeAsync();
        }

        /// <summary>Every row of every table (all tenants) as before the restore.</summary>
        public async Task AssertRowsAsBeforeAsync()
        {
            var after = await TableDump.SnapshotAsync(Connection);
            Assert.True(
                TableDump.Fingerprint(BeforeRows) == TableDump.Fingerprint(after), TableDump.DescribeDifferences(BeforeRows, after));
        }

        /// <summary>Anything beside the tenant folder: a staging or <c>.pre-restore-*</c> folder, or a swap journal.</summary>
        public IEnumerable<string> Leftovers() =>
            Directory.GetFileSystemEntries(_folder.Path)
                .Where(p => Path.GetFileName(p).StartsWith("tenant-2-files.", StringComparison.Ordinal));

        public async ValueTask DisposeAsync()
        {
            if (_proxy is not null)
            {
                await _proxy.DisposeAsync();
            }

            await Connection.DisposeAsync();
            await _fixture.DropDatabaseAsync(Database);
            _folder.Dispose();
        }
    }
}
