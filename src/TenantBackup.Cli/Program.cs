using System.CommandLine;
using System.Runtime.InteropServices;
using TenantBackup.Cli.Commands;

namespace TenantBackup.Cli;

/// <summary>The <c>tenantbackup</c> command: arguments → engine requests → JSON or text, with the documented exit codes.</summary>
internal static class Program
{
    /// <summary>
    /// Lets socket reads complete on the thread that polls the socket instead of hopping to the thread pool for every
    /// 8 KB of COPY data: measured on a 2 M-row backup, 560 k context switches and sched_yield calls become 22 k and
    /// 5.5 k, and about 1 s of client CPU is saved. Only a backup, where it was measured, gets it; the other commands
    /// keep .NET's default. (A restore works under it too since it ends its COPYs without blocking; a test runs one so.)
    /// .NET reads the setting when the first socket opens, so it must be set before that. The operator's own value wins.
    /// </summary>
    private const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        if (args is ["backup", ..] && Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
        }

        using var cancellation = new CancellationTokenSource();

        // The first Ctrl+C (or SIGTERM from systemd/docker stop) cancels the operation, so the engine removes its partial
        // archive and releases its locks; a second Ctrl+C ends the process the hard way.
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                Console.Error.WriteLine("tenantbackup: cancelling (press Ctrl+C again to abort at once)");
                cancellation.Cancel();
            }
        }

        Console.CancelKeyPress += OnCancelKeyPress;
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancellation.Cancel();
        });

        // Past a file size limit (ulimit -f, prlimit --fsize) the kernel sends SIGXFSZ, whose default action ends the
        // process on the spot and leaves its .partial behind; handled, the write fails with EFBIG instead, and the
        // backup removes what it wrote and says why. 25 is SIGXFSZ on Linux and macOS; Windows has no such signal.
        using var onFileSizeLimit = OperatingSystem.IsWindows()
            ? null
            : PosixSignalRegistration.Create((PosixSignal)25, context => context.Cancel = true);
        try
        {
            return await RunAsync(args, Console.Out, Console.Error, cancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    /// <summary>
    /// Runs the command line <paramref name="args"/> in-process, writing to the given streams; returns the exit code.
    /// <paramref name="stdin"/> answers confirmation prompts (null: the process's own stdin).
    /// </summary>
    internal static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        CancellationToken cancellationToken = default,
        ConsoleInput? stdin = null)
    {
        // Engine threads report progress and warnings concurrently.
        stderr = TextWriter.Synchronized(stderr);
        var parseResult = CreateRootCommand(stdin).Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                await stderr.WriteLineAsync($"tenantbackup: usage: {error.Message}").ConfigureAwait(false);
            }

            var commandPath = string.Join(' ', parseResult.CommandResult.Command is RootCommand
                ? ["tenantbackup"]
                : (string[])["tenantbackup", parseResult.CommandResult.Command.Name]);
            await stderr.WriteLineAsync($"Run '{commandPath} --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Main handles Ctrl+C and SIGTERM itself.
        };
        return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses a command line with the real command tree (what tests use to check request building).</summary>
    internal static ParseResult Parse(IReadOnlyList<string> args) => CreateRootCommand().Parse(args);

    /// <summary>
    /// The command tree: <c>backup</c>, <c>restore</c>, <c>list</c>, <c>sync</c>; <paramref name="stdin"/> answers prompts.
    /// </summary>
    internal static RootCommand CreateRootCommand(ConsoleInput? stdin = null)
        => new("Back up and restore one tenant's rows of a multi-tenant PostgreSQL database. Exit codes: 0 success, 1 failure, "
            + "2 usage, 3 archive corrupt or missing, 4 tenant locked, 5 restore refused, 6 decryption failed (no key, or not the "
            + "archive's key or passphrase).")
        {
            new BackupCommand(),
            new RestoreCommand(stdin),
            new ListCommand(),
            new SyncCommand(),
            new PruneCommand(),
            new VerifyCommand(),
        };
}
