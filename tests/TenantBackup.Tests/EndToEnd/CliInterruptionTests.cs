using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>
/// The built <c>tenantbackup</c> as a child process, stopped in the middle of a backup: by <c>kill -9</c> (no chance to
/// clean up) and by SIGTERM (cancels). Either way no archive, <c>.sha256</c>, index entry or lock may survive it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CliInterruptionTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task KilledMidBackup_LeavesNoArchiveIndexEntryOrLock_AndTheNextBackupRemovesTheLeftovers()
    {
        var watch = Stopwatch.StartNew();
        var database = await BigTenantDatabase.GetAsync(fixture);
        output.WriteLine($"big tenant database ready after {watch.Elapsed.TotalSeconds:0.0} s");
        using var folder = new TempFolder();
        // Uncompressed, so the file grows with the export in chunk-sized steps; libzstd's workers would hold most of the
        // output until the frame ends, and size-based kill points past the first few MB would then never be reached.
        var arguments = BigTenantDatabase.BackupArguments(fixture, database, folder.Path).Concat(["--compression", "none"]).ToList();

        // A whole backup first: its size places the kill points, and the killed runs must leave it alone.
        var reference = await CliProcess.RunAsync(arguments);
        Assert.True(reference.ExitCode == 0, reference.Describe());
        long referenceSize, referenceRows;
        using (var json = ParseStdout(reference))
        {
            referenceSize = json.RootElement.GetProperty("size").GetInt64();
            referenceRows = json.RootElement.GetProperty("rowCount").GetInt64();
        }

        output.WriteLine($"reference backup: {referenceRows} rows, {referenceSize} bytes, done after {watch.Elapsed.TotalSeconds:0.0} s");

        var indexBefore = IndexEntries(folder.Path);
        var archivesBefore = Archives(folder.Path);
        var sidecarsBefore = Sidecars(folder.Path);

        // As soon as the .partial appears (lock and snapshot held, nothing exported yet), then at growing sizes, the child
        // running in slices (PausedWithPartialAsync) so that it cannot race past a kill point.
        double[] killPoints = [0, 0.1, 0.25, 0.4, 0.55];
        var killedAt = new List<long>();
        foreach (var fraction in killPoints)
        {
            // A busy machine can stretch one slice until the whole (fast) backup is done: that run then tested nothing,
            // its backup is a normal one, and the point is tried again with a new child.
            CliProcess process;
            (string Path, long Size)? paused;
            var attempts = 0;
            do
            {
                var known = Partials(folder.Path).ToHashSet(StringComparer.Ordinal);
                process = CliProcess.Start(arguments);
                paused = await PausedWithPartialAsync(process, folder.Path, known, (long)(fraction * referenceSize));
                if (paused is null)
                {
                    Assert.True((await process.WaitAsync(ExitTimeout)).ExitCode == 0);
                    process.Dispose();
                    (indexBefore, archivesBefore, sidecarsBefore) =
                        (IndexEntries(folder.Path), Archives(folder.Path), Sidecars(folder.Path));
                }
            }
            while (paused is null && ++attempts < 3);

            Assert.True(
                paused is not null,
                $"Three backups in a row finished before their .partial reached {fraction:P0} of {referenceSize} bytes.");
            using var running = process;
            var (partial, size) = paused.Value;
            process.Kill();
            var killed = await process.WaitAsync(ExitTimeout);
            killedAt.Add(size);
            output.WriteLine($"killed at {size} bytes (kill point {fraction:P0}), {watch.Elapsed.TotalSeconds:0.0} s");
            var where = string.Create(CultureInfo.InvariantCulture, $"killed at {size} of {referenceSize} bytes");

            Assert.True(killed.ExitCode != 0, $"{where}{Environment.NewLine}{killed.Describe()}");
            Assert.True(File.Exists(partial), $"{where}: the killed backup's {partial} is gone, so this kill point tested nothing.");
            Assert.Equal(indexBefore, IndexEntries(folder.Path));
            Assert.Equal(archivesBefore, Archives(folder.Path));
            Assert.Equal(sidecarsBefore, Sidecars(folder.Path));
            await AssertNoTenantBackupSessionAsync(fixture, database);
        }

        Assert.True(
            killedAt.Distinct().Count() >= 4,
            "The kills should land at different points of the export; " +
            $"the .partial sizes were {string.Join(", ", killedAt)} of {referenceSize}.");
        var leftovers = Partials(folder.Path);
        Assert.Equal(killPoints.Length, leftovers.Count);

        // The engine removes .partial files older than 10 s whose writer is gone: age them rather than wait.
        foreach (var leftover in leftovers)
        {
            File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddMinutes(-1));
        }

        var next = await CliProcess.RunAsync(arguments);
        output.WriteLine($"next backup done after {watch.Elapsed.TotalSeconds:0.0} s");

        Assert.True(next.ExitCode == 0, next.Describe());
        AssertOnlyBackupFiles(folder.Path);
        Assert.Equal(killPoints.Length, Regex.Matches(next.Stderr, @"warning: Removed .*\.partial").Count);
        using (var json = ParseStdout(next))
        {
            var archive = json.RootElement.GetProperty("path").GetString()!;
            Assert.Equal(referenceRows, json.RootElement.GetProperty("rowCount").GetInt64());
            Assert.Equal(
                indexBefore.Append((json.RootElement.GetProperty("id").GetString()!, Path.GetFileName(archive))),
                IndexEntries(folder.Path));
            Assert.Equal(archivesBefore.Append(archive).Order(StringComparer.Ordinal), Archives(folder.Path));
            await AssertSha256SumAsync(archive);
        }

        await AssertNoTenantBackupSessionAsync(fixture, database);
    }

    [Fact]
    public async Task StalledBackup_KeepsItsPartialWhenAnotherBackupCleansUp_AndStillCompletes()
    {
        var database = await BigTenantDatabase.GetAsync(fixture);
        using var folder = new TempFolder();
        using var stalled = CliProcess.Start(BigTenantDatabase.BackupArguments(fixture, database, folder.Path));
        var (partial, size) = await PausedWithPartialAsync(stalled, folder.Path, new HashSet<string>(), BigTenantDatabase.MidExportBytes)
            ?? throw new InvalidOperationException("The backup finished within one slice, before the point of the test.");

        // A writer stuck past the 10 s grace (a slow query, a stopped VM) is still alive: its .partial is not stale.
        CliResult other;
        try
        {
            File.SetLastWriteTimeUtc(partial, DateTime.UtcNow.AddMinutes(-1));
            other = await CliProcess.RunAsync(
                ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "2", "--repository", folder.Path, "--json"]);
            Assert.True(
                File.Exists(partial),
                $"Another backup deleted the .partial of a live one (paused at {size} bytes).{Environment.NewLine}{other.Describe()}");
        }
        finally
        {
            stalled.Resume();
        }

        var result = await stalled.WaitAsync(ExitTimeout);

        Assert.True(other.ExitCode == 0, other.Describe());
        Assert.DoesNotContain("Removed", other.Stderr, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(2, IndexEntries(folder.Path).Count);
        Assert.Equal(2, Archives(folder.Path).Count);
        AssertOnlyBackupFiles(folder.Path);
        foreach (var archive in Archives(folder.Path))
        {
            await AssertSha256SumAsync(archive);
        }

        await AssertNoTenantBackupSessionAsync(fixture, database);
    }

    [Theory]
    [InlineData(0L)] // the .partial has just appeared: tenant lock and snapshot held, nothing exported yet
    [InlineData(BigTenantDatabase.MidExportBytes)] // table data streaming through the compressor into the file
    public async Task SigtermMidBackup_Cancels_ExitsNonZero_AndLeavesNothing(long partialBytes)
    {
        var database = await BigTenantDatabase.GetAsync(fixture);
        using var folder = new TempFolder();
        using var process = CliProcess.Start(BigTenantDatabase.BackupArguments(fixture, database, folder.Path));

        var (partial, size) = await PausedWithPartialAsync(process, folder.Path, new HashSet<string>(), partialBytes)
            ?? throw new InvalidOperationException("The backup finished within one slice, before the point of the test.");
        var watch = Stopwatch.StartNew();
        process.Terminate(); // delivered when the child runs again
        process.Resume();
        var result = await process.WaitAsync(ExitTimeout);
        output.WriteLine($"SIGTERM at {size} bytes; exited {watch.Elapsed.TotalMilliseconds:0} ms later with {result.ExitCode}");

        var where = string.Create(CultureInfo.InvariantCulture, $"SIGTERM at {size} bytes of {partial}");
        Assert.True(result.ExitCode == 1, $"{where}{Environment.NewLine}{result.Describe()}");
        Assert.Contains("tenantbackup: error Cancelled:", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        AssertNothingKept(folder.Path);
        await AssertNoTenantBackupSessionAsync(fixture, database);
    }

    [Fact]
    public async Task SigtermWhileWaitingForTheTenantLock_CancelsAtOnce()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();

        // An exclusive hold on tenant 2's key, as a restore would take it (key as in the engine's TenantLock).
        await using var holder = await fixture.OpenConnectionAsync(database);
        await using (var take = new NpgsqlCommand(
            "SELECT pg_advisory_lock(hashtext('tenantbackup'), hashtext('tenant_id' || ':' || '2'))", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        using var process = CliProcess.Start(
        [
            "backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "2", "--repository", folder.Path,
            "--lock-timeout", "5m",
        ]);
        await WaitForLockWaiterAsync(process, database);
        var watch = Stopwatch.StartNew();
        process.Terminate();
        var result = await process.WaitAsync(ExitTimeout);
        output.WriteLine($"SIGTERM while waiting for the lock; exited {watch.Elapsed.TotalMilliseconds:0} ms later with {result.ExitCode}");

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Contains("tenantbackup: error Cancelled:", result.Stderr, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"SIGTERM took {watch.Elapsed} to end a lock wait.");
        AssertNothingKept(folder.Path);

        // Released explicitly: a pooled connection keeps its session, and so its lock, after Close.
        await using (var release = new NpgsqlCommand(
            "SELECT pg_advisory_unlock(hashtext('tenantbackup'), hashtext('tenant_id' || ':' || '2'))", holder))
        {
            Assert.True((bool)(await release.ExecuteScalarAsync())!, "The lock holder lost its lock to the cancelled backup.");
        }

        await AssertNoTenantBackupSessionAsync(fixture, database);
        await fixture.DropDatabaseAsync(database);
    }

    private static void AssertNothingKept(string repository)
    {
        Assert.Empty(Partials(repository));
        Assert.Empty(Archives(repository));
        Assert.Empty(Sidecars(repository));
        Assert.Empty(IndexEntries(repository));
    }

    /// <summary>
    /// Polls <c>pg_locks</c> until a <c>tenantbackup</c> session waits for a lock of <paramref name="lockType"/>
    /// (<c>advisory</c>: the tenant lock; <c>relation</c>: a table a test holds) in <paramref name="database"/>.
    /// </summary>
    [Fact]
    public async Task SigtermWhileARestoreWaitsToWrite_RollsBack_AndRemovesItsSafetyBackup()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var connectionString = fixture.ConnectionStringFor(database);
        var backup = await CliProcess.RunAsync(
            ["backup", "--connection", connectionString, "--tenant", "2", "--repository", folder.Path, "--json"]);
        Assert.True(backup.ExitCode == 0, backup.Describe());
        string id;
        using (var json = ParseStdout(backup))
        {
            id = json.RootElement.GetProperty("id").GetString()!;
        }

        await using var connection = await fixture.OpenConnectionAsync(database);
        await using (var change = new NpgsqlCommand("UPDATE customers SET name = 'changed since' WHERE tenant_id = 2", connection))
        {
            await change.ExecuteNonQueryAsync();
        }

        var before = await TableDump.FingerprintAsync(connection);
        var index = Path.Combine(folder.Path, "backups.json");
        var indexBefore = await File.ReadAllBytesAsync(index);

        // Reads go on (staging, checks, the safety backup), but the restore's first write to audit_log waits behind this.
        await using var holder = await fixture.OpenConnectionAsync(database);
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var share = new NpgsqlCommand("LOCK TABLE public.audit_log IN SHARE MODE", holder, transaction))
        {
            await share.ExecuteNonQueryAsync();
        }

        using var process = CliProcess.Start(
            ["restore", id, "--connection", connectionString, "--repository", folder.Path, "--yes", "--lock-timeout", "5m"]);
        await WaitForLockWaiterAsync(process, database, "relation");
        process.Terminate();
        var result = await process.WaitAsync(ExitTimeout);
        await transaction.RollbackAsync();

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Contains("tenantbackup: error Cancelled:", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await TableDump.FingerprintAsync(connection));
        Assert.Equal(indexBefore, await File.ReadAllBytesAsync(index)); // the safety backup it took is gone again
        Assert.Single(Archives(folder.Path));
        await AssertNoTenantBackupSessionAsync(fixture, database);
    }

    private async Task WaitForLockWaiterAsync(CliProcess process, string database, string lockType = "advisory")
    {
        const string sql = """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = $2 AND NOT l.granted AND a.datname = $1 AND a.application_name = 'tenantbackup')
            """;
        await using var connection = await fixture.OpenConnectionAsync(database);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await using var command = new NpgsqlCommand(sql, connection)
            {
                Parameters = { new() { Value = database }, new() { Value = lockType } },
            };
            if ((bool)(await command.ExecuteScalarAsync())!)
            {
                return;
            }

            if (process.HasExited)
            {
                Assert.Fail(
                    $"tenantbackup ended instead of waiting for a {lockType} lock.{Environment.NewLine}" +
                    (await process.WaitAsync(ExitTimeout)).Describe());
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"tenantbackup did not start waiting for a {lockType} lock within 30 s.");
    }

    /// <summary>
    /// Polls the repository until the child's <c>.partial</c> (one not in <paramref name="known"/>) exists and holds at
    /// least <paramref name="minimumBytes"/>; fails when the child exits first.
    /// </summary>
    /// <summary>
    /// Lets the child run only in 20 ms slices between SIGSTOP and SIGCONT until its <c>.partial</c> (one not in
    /// <paramref name="known"/>) exists and holds <paramref name="minimumBytes"/>, so however busy the machine, the
    /// child cannot finish between two looks at its file. Returns with the child paused.
    /// </summary>
    private static async Task<(string Path, long Size)?> PausedWithPartialAsync(
        CliProcess process, string repository, HashSet<string> known, long minimumBytes)
    {
        process.Pause();
        string? partial;
        while ((partial = Partials(repository).FirstOrDefault(p => !known.Contains(p) && File.Exists(p))) is null)
        {
            if (process.HasExited)
            {
                Assert.Fail(
                    $"tenantbackup ended before its .partial appeared.{Environment.NewLine}" +
                    (await process.WaitAsync(ExitTimeout)).Describe());
            }

            await RunOneSliceAsync(process);
        }

        for (var size = new FileInfo(partial).Length; ; size = new FileInfo(partial).Length)
        {
            if (size >= minimumBytes)
            {
                return (partial, size);
            }

            await RunOneSliceAsync(process);
            if (!File.Exists(partial))
            {
                return null; // it finished within one slice
            }
        }
    }

    private static async Task RunOneSliceAsync(CliProcess process)
    {
        if (process.HasExited)
        {
            return;
        }

        process.Resume();
        Thread.Sleep(20); // the OS's timer: a busy thread pool would stretch Task.Delay, and the child with it
        try
        {
            process.Pause();
        }
        catch (InvalidOperationException) when (process.HasExited)
        {
            // It ended within the slice; the caller finds out from the file.
        }
    }
}

/// <summary>
/// A copy of the test database whose tenant 1 has <see cref="ExtraRows"/> more audit rows (tens of MB of COPY text),
/// so that a backup of it takes long enough to be interrupted at several points. Built once per run and only read.
/// </summary>
internal static class BigTenantDatabase
{
    /// <summary>The tenant made big.</summary>
    public const string Tenant = "1";

    /// <summary>Rows added to <c>public.audit_log</c> for <see cref="Tenant"/>.</summary>
    public const int ExtraRows = 300_000;

    /// <summary>A <c>.partial</c> size well past the JSON entries: table data is being written.</summary>
    public const long MidExportBytes = 1 << 20;

    private static readonly SemaphoreSlim _gate = new(1, 1);
    private static (PostgresFixture Fixture, string Database)? _built;

    /// <summary>The database's name, building it on first use for this fixture.</summary>
    public static async Task<string> GetAsync(PostgresFixture fixture)
    {
        await _gate.WaitAsync();
        try
        {
            if (_built is { } built && ReferenceEquals(built.Fixture, fixture))
            {
                return built.Database;
            }

            var database = await fixture.CreateTenantDatabaseAsync();
            await using var connection = await fixture.OpenConnectionAsync(database);
            // md5 text compresses little, so the compressed archive grows steadily while the table streams.
            await using var command = new NpgsqlCommand(
                $"""
                INSERT INTO public.audit_log (tenant_id, at, action, detail)
                SELECT {Tenant}, timestamptz '2025-06-01 00:00:00+00' + make_interval(secs => g),
                       'bulk ' || md5(g::text) || md5((g * 31)::text) || md5((g * 37)::text) || md5((g * 41)::text), NULL
                FROM generate_series(1, {ExtraRows}) AS g
                """,
                connection)
            { CommandTimeout = 120 };
            await command.ExecuteNonQueryAsync();
            _built = (fixture, database);
            return database;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>backup</c> of <see cref="Tenant"/> into <paramref name="repository"/>, JSON on stdout.</summary>
    public static string[] BackupArguments(PostgresFixture fixture, string database, string repository) =>
        ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", Tenant, "--repository", repository, "--json"];
}
