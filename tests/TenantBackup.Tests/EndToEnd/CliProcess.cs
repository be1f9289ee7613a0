using System.Diagnostics;
using System.Runtime.InteropServices;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>How one run of the real <c>tenantbackup</c> ended: exit code, and stdout and stderr kept apart.</summary>
internal sealed record CliResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>A report for assertion messages: the command, its exit code and both streams.</summary>
    public string Describe() =>
        $"command: {CommandLine}{Environment.NewLine}exit code: {ExitCode}{Environment.NewLine}" +
        $"stdout:{Environment.NewLine}{(Stdout.Length == 0 ? "(none)" : Stdout.TrimEnd())}{Environment.NewLine}" +
        $"stderr:{Environment.NewLine}{(Stderr.Length == 0 ? "(none)" : Stderr.TrimEnd())}";
}

/// <summary>
/// The built <c>tenantbackup.dll</c> running as a child process (<c>dotnet tenantbackup.dll ...</c>), as cron or a
/// shell would run it: its own process, real signals, real exit codes. Its environment is the test's minus every
/// <c>PG*</c> variable and <c>$TENANTBACKUP_REPOSITORY</c>, so only what a test passes reaches it.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    // Linux signal numbers (x86-64 and arm64 agree on these).
    private const int SigTerm = 15;
    private const int SigStop = 19;
    private const int SigCont = 18;
    private static readonly Lazy<string> _dllPath = new(FindDll);
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private CliProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
        // Read both pipes from the start, so that a chatty child never blocks on a full pipe.
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The <c>tenantbackup.dll</c> the tests run: the copy next to the test assembly, else the CLI's own build output.</summary>
    public static string DllPath => _dllPath.Value;

    /// <summary>What ran, for messages.</summary>
    public string CommandLine { get; }

    /// <summary>The child's process id (the <c>dotnet</c> host runs the app in its own process, so this is the app).</summary>
    public int Id => _process.Id;

    /// <summary>True once the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <c>dotnet tenantbackup.dll <paramref name="arguments"/></c>; <paramref name="environment"/> entries set (or,
    /// when null, remove) variables. With <paramref name="asUser"/> (the tests must run as root) it runs as that OS user,
    /// through <c>runuser</c>.
    /// </summary>
    public static CliProcess Start(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? asUser = null)
    {
        var dotnet = DotnetHost();
        var startInfo = new ProcessStartInfo(asUser is null ? dotnet : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Nothing may wait for a keyboard.
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asUser is not null)
        {
            foreach (var argument in new[] { "-u", asUser, "--", dotnet })
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        startInfo.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var name in startInfo.Environment.Keys.Where(IsConnectionVariable).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        process.Start();
        process.StandardInput.Close();
        return new CliProcess(process, ProcessRunner.FormatCommandLine(asUser is null ? "dotnet" : "runuser", startInfo.ArgumentList));
    }

    /// <summary>Runs <c>tenantbackup</c> to completion (killed after <paramref name="timeout"/>, default 60 s).</summary>
    public static async Task<CliResult> RunAsync(
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null,
        string? asUser = null)
    {
        using var process = Start(arguments, environment, asUser);
        return await process.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Waits for the child to exit and returns what it printed; kills it and fails the test after <paramref name="timeout"/>.
    /// </summary>
    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var timeoutSource = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync();
            throw new TimeoutException(
                $"tenantbackup did not exit within {timeout.TotalSeconds:0} s and was killed.{Environment.NewLine}" +
                new CliResult(CommandLine, -1, await _stdout, await _stderr).Describe());
        }

        return new CliResult(CommandLine, _process.ExitCode, await _stdout, await _stderr);
    }

    /// <summary><c>kill -9</c>: the process ends at once, with no chance to clean up.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    /// <summary><c>kill -TERM</c>, as systemd or <c>docker stop</c> would send it.</summary>
    public void Terminate() => Signal(SigTerm, "SIGTERM");

    /// <summary><c>kill -STOP</c>: the process freezes with everything it holds (files, locks, connections).</summary>
    public void Pause() => Signal(SigStop, "SIGSTOP");

    /// <summary><c>kill -CONT</c>: a paused process carries on.</summary>
    public void Resume() => Signal(SigCont, "SIGCONT");

    private void Signal(int signal, string name)
    {
        if (SysKill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {name}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static bool IsConnectionVariable(string name) =>
        name.StartsWith("PG", StringComparison.Ordinal) || name == "TENANTBACKUP_REPOSITORY";

    /// <summary>The <c>dotnet</c> host running the tests (set by <c>dotnet test</c>), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return "dotnet";
    }

    private static string FindDll()
    {
        // The test project references the CLI project, so the build copies the app (dll, deps.json, runtimeconfig.json) here.
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "tenantbackup.dll"),
            Path.Combine(TestPaths.RepoRoot, "src", "TenantBackup.Cli", "bin", TestPaths.Configuration, "net8.0", "tenantbackup.dll"),
        ];
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate) && File.Exists(Path.ChangeExtension(candidate, ".runtimeconfig.json")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"The built tenantbackup.dll (with its runtimeconfig.json) is in none of: {string.Join(", ", candidates)}. " +
            "Build TenantBackup.sln first.");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
