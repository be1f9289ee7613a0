using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.EndToEnd;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// Eight backups of different tenants (six in this process, two as <c>tenantbackup</c> processes) and two restores, all
/// at once against one database and one repository, round after round, while <c>pgbench</c> inserts and updates rows
/// of other tenants in the same tables. Every round ends within a bound (no deadlock), every backup verifies, every
/// restored tenant equals its archive row for row, and the index holds every backup. The rounds run for
/// <see cref="DefaultSeconds"/> s, or for <c>$TENANTBACKUP_SOAK_SECONDS</c> (docs/reliability.md).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ConcurrentLoadTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int DefaultSeconds = 10;
    private static readonly TimeSpan RoundBound = TimeSpan.FromSeconds(120);
    private static readonly int[] BackedUp = [2, 11, 12, 13, 14, 15, 16, 17];
    private static readonly int[] Restored = [1, 3];

    private const string MoreTenants = """
        INSERT INTO public.tenants (id, name, created_at)
        SELECT g, 'tenant ' || g, timestamptz '2025-01-01 00:00:00+00' FROM generate_series(11, 17) g
        UNION ALL SELECT g, 'load ' || g, timestamptz '2025-01-01 00:00:00+00' FROM generate_series(31, 34) g;
        INSERT INTO public.customers (tenant_id, name)
        SELECT t.id, 'customer ' || i FROM public.tenants t, generate_series(1, 20) i WHERE t.id > 10;
        INSERT INTO public.audit_log (tenant_id, at, action, detail)
        SELECT t.id, timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => i), 'seed ' || i, NULL
        FROM public.tenants t, generate_series(1, 500) i WHERE t.id > 10;
        """;

    // Other tenants' rows in the tables the backups read and the restores rewrite.
    private const string Workload = """
        \set t random(31, 34)
        INSERT INTO public.audit_log (tenant_id, at, action, detail) VALUES (:t, now(), 'pgbench', '{"load": true}');
        UPDATE public.customers SET balance = coalesce(balance, 0) + 1 WHERE tenant_id = :t AND id % 7 = :t % 7;
        """;

    [Fact]
    public async Task BackupsAndRestoresUnderWriteLoad_AllFinish_AllVerify_AndNothingIsLost()
    {
        var seconds = int.TryParse(
                Environment.GetEnvironmentVariable("TENANTBACKUP_SOAK_SECONDS"), CultureInfo.InvariantCulture, out var soak)
            ? soak
            : DefaultSeconds;
        var database = await fixture.CreateTenantDatabaseAsync();
        var connectionString = fixture.ConnectionStringFor(database);
        await using var connection = await fixture.OpenConnectionAsync(database);
        await RestoreKillTests.ExecuteAsync(connection, MoreTenants);
        using var folder = new TempFolder();
        var repository = Path.Combine(folder.Path, "repo");

        // The archives the restores put back, and the rows they must give; then the tenants drift away from them.
        var archives = new Dictionary<int, string>();
        var expected = new Dictionary<int, Dictionary<string, IReadOnlyList<string>>>();
        foreach (var tenant in Restored)
        {
            var info = await new BackupEngine().BackupAsync(
                new BackupRequest { ConnectionString = connectionString, Tenant = Text(tenant), Repository = repository },
                null,
                CancellationToken.None);
            archives[tenant] = info.Id;
            expected[tenant] = await TenantRowsAsync(connection, tenant);
            await RestoreKillTests.ExecuteAsync(
                connection, $"UPDATE public.customers SET name = name || ' (drifted)' WHERE tenant_id = {Text(tenant)}");
        }

        var script = Path.Combine(folder.Path, "workload.sql");
        await File.WriteAllTextAsync(script, Workload);
        var watch = Stopwatch.StartNew();
        var load = ProcessRunner.RunAsync(
            Path.Combine(fixture.BinDirectory, "pgbench"),
            ["-n", "-c", "2", "-T", Text(seconds), "-f", script],
            TimeSpan.FromSeconds(seconds + 60),
            environment: fixture.EnvironmentFor(database));

        var backupIds = new List<string>();
        var rounds = 0;
        do
        {
            var roundWatch = Stopwatch.StartNew();
            var backups = BackedUp
                .Select((tenant, i) => i < 2
                    ? CliBackupAsync(connectionString, tenant, repository)
                    : EngineBackupAsync(connectionString, tenant, repository))
                .ToList();
            var restores = Restored.Select(tenant => new RestoreEngine().RestoreAsync(
                new RestoreRequest
                {
                    ConnectionString = connectionString, BackupId = archives[tenant], Repository = repository, LockTimeout = RoundBound,
                },
                null,
                CancellationToken.None)).ToList();
            var all = Task.WhenAll(Task.WhenAll(backups), Task.WhenAll(restores));
            try
            {
                await all.WaitAsync(RoundBound);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"Round {rounds + 1} did not finish within {RoundBound.TotalSeconds:0} s: a deadlock or a lost wake-up.");
            }

            backupIds.AddRange(await Task.WhenAll(backups));
            rounds++;
            output.WriteLine($"round {rounds}: 8 backups and 2 restores in {roundWatch.Elapsed.TotalSeconds:0.0} s");
            foreach (var tenant in Restored)
            {
                var rows = await TenantRowsAsync(connection, tenant);
                foreach (var (table, tableRows) in expected[tenant])
                {
                    Assert.True(
                        tableRows.SequenceEqual(rows[table]), $"round {rounds}: tenant {tenant}'s {table} differs from its archive.");
                }
            }
        }
        while (!load.IsCompleted);

        var pgbench = await load;
        Assert.True(pgbench.Succeeded, pgbench.Describe());
        var transactions = long.Parse(TransactionsProcessed().Match(pgbench.Output).Groups[1].Value, CultureInfo.InvariantCulture);
        output.WriteLine($"{rounds} rounds in {watch.Elapsed.TotalSeconds:0.0} s; pgbench: {transactions} transactions");
        Assert.True(transactions > 0, pgbench.Describe());

        // Two archives to restore from, then per round 8 backups and 2 safety backups (the restored tenants have rows).
        var index = IndexEntries(repository);
        Assert.Equal(2 + (rounds * 10), index.Count);
        Assert.All(backupIds, id => Assert.Contains(index, e => e.Id == id));
        AssertOnlyBackupFiles(repository);
        var verified = await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Repository = repository }, null, CancellationToken.None);
        Assert.Equal(index.Count, verified.Count);
        Assert.All(verified, r => Assert.True(r.Status == IntegrityStatus.Valid, $"{r.Path}: {r.Status}"));
        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    private static async Task<string> EngineBackupAsync(string connectionString, int tenant, string repository)
    {
        var info = await new BackupEngine().BackupAsync(
            new BackupRequest { ConnectionString = connectionString, Tenant = Text(tenant), Repository = repository },
            null,
            CancellationToken.None);
        return info.Id;
    }

    private static async Task<string> CliBackupAsync(string connectionString, int tenant, string repository)
    {
        var result = await CliProcess.RunAsync(
            ["backup", "--connection", connectionString, "--tenant", Text(tenant), "--repository", repository, "--json"],
            timeout: RoundBound);
        Assert.True(result.ExitCode == 0, result.Describe());
        using var json = ParseStdout(result);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<Dictionary<string, IReadOnlyList<string>>> TenantRowsAsync(Npgsql.NpgsqlConnection connection, int tenant)
    {
        var rows = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var table in TestSchema.ScopedTables)
        {
            rows[table] = await TableDump.RowsAsync(connection, table, TestSchema.TenantWhere(table, tenant));
        }

        return rows;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex TransactionsProcessed();
}
