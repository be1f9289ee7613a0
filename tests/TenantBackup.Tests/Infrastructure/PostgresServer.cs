using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace TenantBackup.Tests.Infrastructure;

/// <summary>Raised when the test PostgreSQL server cannot be found, started, reached or stopped.</summary>
public sealed class PostgresServerException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// A PostgreSQL server for the tests: either a throwaway cluster initialised and started here (trust auth,
/// durability off, bound to 127.0.0.1 on a free port) or, when <see cref="ConnectionVariable"/> is set, that server.
/// </summary>
/// <remarks>
/// A cluster started here is stopped and deleted on dispose, and again at process exit or on SIGTERM/SIGHUP/SIGINT/SIGQUIT. A run
/// that is killed outright (SIGKILL) gets neither, so each start first removes clusters whose owning process is gone.
/// PostgreSQL refuses to run as root: as root the cluster belongs to, and runs as, the <c>postgres</c> OS user.
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>Connection string of an existing server to use instead of starting one.</summary>
    public const string ConnectionVariable = "TENANTBACKUP_TEST_CONNECTION";

    /// <summary>Folder holding initdb/pg_ctl/psql, overriding the search (e.g. to test another major version).</summary>
    public const string BinDirectoryVariable = "TENANTBACKUP_PG_BIN";

    private const string FolderPrefix = "tenantbackup-pg-";
    private const string OwnerFileName = "owner";
    private const string ServiceUser = "postgres";
    private static readonly TimeSpan _commandTimeout = TimeSpan.FromSeconds(120);

    // Servers this process started and has not stopped yet, for the process-exit hook.
    private static readonly ConcurrentDictionary<PostgresServer, byte> _running = new();

    private readonly NpgsqlConnectionStringBuilder _baseConnection;
    private readonly string? _runAsUser;
    private readonly Lock _stopLock = new();
    // Every way of stopping (dispose, signal, process exit, failed start) shares one attempt and waits for it, so the
    // process cannot exit halfway through a stop begun elsewhere.
    private Task<string?>? _stop;

    // Kept alive for the life of the process: a collected registration unregisters its handler.
    private static readonly PosixSignalRegistration[] _signalRegistrations;

    static PostgresServer()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAllForExit();

        // Since .NET 10, SIGTERM and SIGHUP end the process without raising ProcessExit, and under the test host so
        // does Ctrl+C; stop the servers here. The signal's default action (termination) follows once the handler returns.
        _signalRegistrations = OperatingSystem.IsWindows()
            ? []
            :
            [
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopAllForExit()),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, _ => StopAllForExit()),
                PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => StopAllForExit()),
                PosixSignalRegistration.Create(PosixSignal.SIGQUIT, _ => StopAllForExit()),
            ];
    }

    private PostgresServer(
        NpgsqlConnectionStringBuilder baseConnection,
        string? binDirectory,
        string? rootDirectory,
        string? runAsUser)
    {
        _baseConnection = baseConnection;
        BinDirectory = binDirectory;
        RootDirectory = rootDirectory;
        _runAsUser = runAsUser;
    }

    /// <summary>True when the server came from <see cref="ConnectionVariable"/> and is not ours to stop.</summary>
    public bool IsExternal => RootDirectory is null;

    /// <summary>Host to connect to.</summary>
    public string Host => _baseConnection.Host ?? "localhost";

    /// <summary>TCP port of the server.</summary>
    public int Port => _baseConnection.Port;

    /// <summary>Role the tests connect as (a superuser for a cluster started here).</summary>
    public string Username => _baseConnection.Username ?? Environment.UserName;

    /// <summary>Password for <see cref="Username"/>, or null (a cluster started here uses trust auth).</summary>
    public string? Password => _baseConnection.Password;

    /// <summary>Connection string for the administrative database (<c>postgres</c>, unless the external one names another).</summary>
    public string AdminConnectionString => _baseConnection.ConnectionString;

    /// <summary>The administrative database's name.</summary>
    public string AdminDatabase => _baseConnection.Database ?? "postgres";

    /// <summary>Folder of the PostgreSQL client and server programs, or null when none was found (external server only).</summary>
    public string? BinDirectory { get; }

    /// <summary>Folder holding the cluster (data, socket, log, owner file); null for an external server.</summary>
    public string? RootDirectory { get; }

    /// <summary>The cluster's data directory; null for an external server.</summary>
    public string? DataDirectory => RootDirectory is null ? null : Path.Combine(RootDirectory, "data");

    /// <summary>The folder of the server's Unix socket; null for an external server.</summary>
    public string? SocketDirectory => RootDirectory is null ? null : Path.Combine(RootDirectory, "sock");

    /// <summary>The server's log file; null for an external server.</summary>
    public string? LogPath => RootDirectory is null ? null : Path.Combine(RootDirectory, "server.log");

    /// <summary>How long finding, initialising and starting (or reaching) the server took.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>
    /// Starts a throwaway cluster, or connects to the server named by <see cref="ConnectionVariable"/>.
    /// Throws <see cref="PostgresServerException"/> with the failing command, its output and the log tail.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var external = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            return await ConnectExternalAsync(external, stopwatch, cancellationToken);
        }

        var binDirectory = FindBinDirectory() ?? throw new PostgresServerException(
            "Cannot find the PostgreSQL server programs: no initdb on PATH, none under /usr/lib/postgresql/*/bin, " +
            $"and {BinDirectoryVariable} is not set. Install PostgreSQL (Debian: apt-get install postgresql postgresql-contrib) " +
            $"or set {ConnectionVariable} to the connection string of a server to test against.");

        var missing = new[] { "initdb", "pg_ctl", "postgres" }.Where(name => !File.Exists(Path.Combine(binDirectory, name))).ToList();
        if (missing.Count > 0)
        {
            var source = string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(BinDirectoryVariable))
                ? "PATH or /usr/lib/postgresql"
                : BinDirectoryVariable;
            throw new PostgresServerException(
                $"The PostgreSQL bin folder {binDirectory} (from {source}) lacks {string.Join(", ", missing)}.");
        }

        var runAsUser = await ChooseServiceUserAsync(cancellationToken);
        RemoveAbandonedClusters(binDirectory, runAsUser);

        var root = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
        var server = new PostgresServer(new NpgsqlConnectionStringBuilder(), binDirectory, root, runAsUser);
        _running.TryAdd(server, 0);
        try
        {
            await server.InitialiseAndStartAsync(cancellationToken);
        }
        catch
        {
            // The start failure is the news; a failure to clean up after it must not replace it. A signal handler
            // may already be stopping this server (that is often why the start failed): leave it to that.
            _running.TryRemove(server, out _);
            await server.StopOnceAsync();
            throw;
        }

        server.StartupTime = stopwatch.Elapsed;
        return server;
    }

    /// <summary>The connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(_baseConnection.ConnectionString) { Database = database }.ConnectionString;

    /// <summary>Full path of a PostgreSQL program (psql, pg_dump, ...), from <see cref="BinDirectory"/> or else PATH.</summary>
    public string ProgramPath(string name)
    {
        if (BinDirectory is not null && File.Exists(Path.Combine(BinDirectory, name)))
        {
            return Path.Combine(BinDirectory, name);
        }

        return FindOnPath(name) ?? throw new PostgresServerException(
            $"Cannot find the PostgreSQL program '{name}' in {BinDirectory ?? "(no PostgreSQL bin folder found)"} or on PATH.");
    }

    /// <summary>The last lines of the server log, or a note saying why there is none.</summary>
    public string LogTail(int lines = 40)
    {
        if (LogPath is null)
        {
            return "(external server: its log is not available here)";
        }

        try
        {
            if (!File.Exists(LogPath))
            {
                return $"(no server log at {LogPath})";
            }

            var all = File.ReadAllLines(LogPath);
            return string.Join(Environment.NewLine, all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException ex)
        {
            return $"(cannot read {LogPath}: {ex.Message})";
        }
        catch (UnauthorizedAccessException ex)
        {
            return $"(cannot read {LogPath}: {ex.Message})";
        }
    }

    /// <summary>Stops a cluster started here (fast shutdown) and deletes its folder. Does nothing for an external server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsExternal)
        {
            return;
        }

        _running.TryRemove(this, out _);
        NpgsqlConnection.ClearAllPools();
        var failure = await StopOnceAsync();
        if (failure is not null)
        {
            throw new PostgresServerException(failure);
        }
    }

    private async Task InitialiseAndStartAsync(CancellationToken cancellationToken)
    {
        var root = RootDirectory!;

        // The owner file lets a later run tell a live cluster from one whose test process was killed.
        using (var self = Process.GetCurrentProcess())
        {
            await File.WriteAllTextAsync(
                Path.Combine(root, OwnerFileName),
                $"{Environment.ProcessId} {self.StartTime.ToUniversalTime().Ticks}\n",
                cancellationToken);
        }

        Directory.CreateDirectory(SocketDirectory!);
        if (_runAsUser is not null)
        {
            await RunCheckedAsync("chown", ["-R", $"{_runAsUser}:", root], cancellationToken);
        }

        await RunAsServiceUserCheckedAsync(
            "initdb",
            ["-D", DataDirectory!, "--auth=trust", "-U", ServiceUser, "-E", "UTF8", "--locale=C", "--no-sync"],
            cancellationToken);

        // Another process can take the port between probing and binding it; a fresh port usually fixes that.
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var port = FindFreePort();
            var result = await RunAsServiceUserAsync("pg_ctl", PgCtlStartArguments(port), cancellationToken);
            if (result.Succeeded)
            {
                _baseConnection.Host = "127.0.0.1";
                _baseConnection.Port = port;
                _baseConnection.Username = ServiceUser;
                _baseConnection.Database = "postgres";
                // Server-side detail (e.g. the failing row) in exceptions makes a failing test explain itself.
                _baseConnection.IncludeErrorDetail = true;
                break;
            }

            var tail = LogTail();
            if (attempt < attempts && tail.Contains("could not bind", StringComparison.Ordinal))
            {
                continue;
            }

            throw new PostgresServerException(
                $"Starting the test PostgreSQL server failed.{Environment.NewLine}{result.Describe()}" +
                $"{Environment.NewLine}server log ({LogPath}):{Environment.NewLine}{tail}");
        }

        await ProbeAsync(cancellationToken);
    }

    private string[] PgCtlStartArguments(int port)
    {
        // pg_ctl hands -o to /bin/sh, so the socket path is shell-quoted.
        var options = string.Join(
            ' ',
            $"-p {port.ToString(CultureInfo.InvariantCulture)}",
            $"-k '{SocketDirectory!.Replace("'", "'\\''")}'",
            "-c listen_addresses=127.0.0.1",
            // Durability buys nothing for a cluster deleted after the run, and costs seconds.
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=100",
            // Fixed time zone: timestamptz text (COPY output, dumps) must not depend on the machine.
            "-c timezone=UTC",
            "-c log_timezone=UTC");
        return ["start", "-w", "-t", "60", "-D", DataDirectory!, "-l", LogPath!, "-o", options];
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new PostgresServerException(
                $"The test PostgreSQL server started but does not answer at {Host}:{Port}: {ex.Message}" +
                $"{Environment.NewLine}server log ({LogPath}):{Environment.NewLine}{LogTail()}", ex);
        }
    }

    private static async Task<PostgresServer> ConnectExternalAsync(
        string connectionString, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new PostgresServerException($"{ConnectionVariable} is not a valid Npgsql connection string: {ex.Message}", ex);
        }

        builder.Database ??= "postgres";
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            var shown = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Password = null };
            throw new PostgresServerException(
                $"Cannot connect to the server named by {ConnectionVariable} ({shown.ConnectionString}): {ex.Message}", ex);
        }

        return new PostgresServer(builder, FindBinDirectory(), null, null) { StartupTime = stopwatch.Elapsed };
    }

    /// <summary>
    /// The bin folder: <see cref="BinDirectoryVariable"/>, else the folder of the real initdb found on PATH (following
    /// symlinks, so psql/pg_dump of the same version sit beside it), else the highest /usr/lib/postgresql/*/bin.
    /// </summary>
    public static string? FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var onPath = FindOnPath("initdb");
        if (onPath is not null)
        {
            var target = File.ResolveLinkTarget(onPath, returnFinalTarget: true)?.FullName ?? onPath;
            return Path.GetDirectoryName(target);
        }

        // Debian and Ubuntu keep the versioned server programs off PATH.
        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot))
        {
            return null;
        }

        return Directory.GetDirectories(debianRoot)
            .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: Version.TryParse(
                Path.GetFileName(dir).Contains('.', StringComparison.Ordinal) ? Path.GetFileName(dir) : Path.GetFileName(dir) + ".0",
                out var version) ? version : null))
            .Where(candidate => candidate.Version is not null && File.Exists(Path.Combine(candidate.Dir, "initdb")))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Dir)
            .FirstOrDefault();
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    // PostgreSQL will not run as root; as root, run it as the postgres OS user.
    private static async Task<string?> ChooseServiceUserAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows() || GetEffectiveUserId() != 0)
        {
            return null;
        }

        var lookup = await ProcessRunner.RunAsync("id", ["-u", ServiceUser], _commandTimeout, cancellationToken: cancellationToken);
        if (!lookup.Succeeded)
        {
            throw new PostgresServerException(
                $"The tests run as root, PostgreSQL refuses to run as root, and there is no '{ServiceUser}' OS user to run it as " +
                $"(`id -u {ServiceUser}` failed: {lookup.Output.Trim()}). Create one (installing the Debian postgresql package " +
                $"does; or: useradd --system --user-group {ServiceUser}), run the tests as a non-root user, or set " +
                $"{ConnectionVariable} to the connection string of a server to test against.");
        }

        if (FindOnPath("runuser") is null)
        {
            throw new PostgresServerException(
                "The tests run as root and must start PostgreSQL as the postgres user, but runuser (util-linux) is not on PATH.");
        }

        return ServiceUser;
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task<ProcessResult> RunAsServiceUserAsync(
        string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsUserAsync(_runAsUser, Path.Combine(BinDirectory!, program), arguments, RootDirectory!, cancellationToken);

    private async Task RunAsServiceUserCheckedAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsServiceUserAsync(program, arguments, cancellationToken);
        if (!result.Succeeded)
        {
            throw new PostgresServerException(
                $"Preparing the test PostgreSQL server failed.{Environment.NewLine}{result.Describe()}" +
                $"{Environment.NewLine}server log ({LogPath}):{Environment.NewLine}{LogTail()}");
        }
    }

    private async Task RunCheckedAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, _commandTimeout, cancellationToken: cancellationToken);
        if (!result.Succeeded)
        {
            throw new PostgresServerException($"Preparing the test PostgreSQL server failed.{Environment.NewLine}{result.Describe()}");
        }
    }

    private static Task<ProcessResult> RunAsUserAsync(
        string? user, string program, IReadOnlyList<string> arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        // Fixed C locale: an unset or uninstalled locale in the caller's environment must not break initdb or the server.
        var environment = new Dictionary<string, string?>
        {
            ["LC_ALL"] = "C",
            ["LANG"] = "C",
            ["PGDATA"] = null,
            ["PGPORT"] = null,
            ["PGHOST"] = null,
        };

        // The working directory is the cluster folder: the postgres user may not be able to enter the caller's.
        return user is null
            ? ProcessRunner.RunAsync(program, arguments, _commandTimeout, workingDirectory, environment, cancellationToken)
            : ProcessRunner.RunAsync(
                "runuser", ["-u", user, "--", program, .. arguments], _commandTimeout, workingDirectory, environment, cancellationToken);
    }

    private Task<string?> StopOnceAsync()
    {
        lock (_stopLock)
        {
            return _stop ??= Task.Run(() => StopAndDeleteAsync(CancellationToken.None));
        }
    }

    // Returns a description of what went wrong, or null.
    private async Task<string?> StopAndDeleteAsync(CancellationToken cancellationToken)
    {
        string? failure = null;
        if (File.Exists(Path.Combine(DataDirectory!, "postmaster.pid")))
        {
            var stop = await RunAsServiceUserAsync(
                "pg_ctl", ["stop", "-D", DataDirectory!, "-m", "fast", "-w", "-t", "30"], cancellationToken);
            if (!stop.Succeeded)
            {
                var immediate = await RunAsServiceUserAsync(
                    "pg_ctl", ["stop", "-D", DataDirectory!, "-m", "immediate", "-w", "-t", "30"], cancellationToken);
                failure = $"Stopping the test PostgreSQL server failed.{Environment.NewLine}{stop.Describe()}" +
                    Environment.NewLine +
                    (immediate.Succeeded ? "(an immediate shutdown then succeeded)" : immediate.Describe()) +
                    $"{Environment.NewLine}server log:{Environment.NewLine}{LogTail()}";
            }
        }

        try
        {
            Directory.Delete(RootDirectory!, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failure = (failure is null ? "" : failure + Environment.NewLine) + $"Deleting {RootDirectory} failed: {ex.Message}";
        }

        return failure;
    }

    private static void StopAllForExit()
    {
        foreach (var server in _running.Keys)
        {
            try
            {
                // Nothing can report a failure this late; stopping and deleting is all that matters.
                server.StopOnceAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"Could not stop the test PostgreSQL server in {server.RootDirectory}: {ex.Message}");
            }
        }
    }

    // Clusters left behind by a test process that was killed (SIGKILL, host crash) get no exit hook: remove them now.
    private static void RemoveAbandonedClusters(string binDirectory, string? runAsUser)
    {
        string[] candidates;
        try
        {
            candidates = Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var folder in candidates)
        {
            try
            {
                var ownerFile = Path.Combine(folder, OwnerFileName);
                var abandoned = File.Exists(ownerFile)
                    ? !OwnerIsAlive(File.ReadAllText(ownerFile))
                    // No owner file: being created by another run right now, or half deleted by a killed one.
                    : DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > TimeSpan.FromMinutes(10);
                if (!abandoned)
                {
                    continue;
                }

                var data = Path.Combine(folder, "data");
                if (File.Exists(Path.Combine(data, "postmaster.pid")))
                {
                    RunAsUserAsync(
                            runAsUser, Path.Combine(binDirectory, "pg_ctl"),
                            ["stop", "-D", data, "-m", "immediate", "-w", "-t", "30"], folder, CancellationToken.None)
                        .GetAwaiter().GetResult();
                }

                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: a folder we cannot remove is somebody else's problem and does not affect this run.
            }
        }
    }

    private static bool OwnerIsAlive(string ownerLine)
    {
        var parts = ownerLine.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var startTicks))
        {
            return true;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            // A recycled pid belongs to a process that started at another time.
            return Math.Abs(process.StartTime.ToUniversalTime().Ticks - startTicks) < TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
