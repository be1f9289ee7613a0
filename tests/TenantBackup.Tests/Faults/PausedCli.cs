using System.Diagnostics;
using TenantBackup.Tests.EndToEnd;
using Xunit;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// A <c>tenantbackup</c> child process (<see cref="CliProcess"/>) held at one of the engine's pause points: it set
/// <c>TENANTBACKUP_TEST_PAUSE_AT</c>, wrote the signal file when it got there, and waits, holding its files, locks and
/// connection, until <see cref="Resume"/> deletes that file or <see cref="KillAsync"/> ends it with <c>kill -9</c>.
/// </summary>
internal sealed class PausedCli : IDisposable
{
    private static readonly TimeSpan ReachTimeout = TimeSpan.FromSeconds(60);
    private readonly string _signalFile;

    private PausedCli(CliProcess process, string signalFile, string point)
    {
        Process = process;
        _signalFile = signalFile;
        Point = point;
    }

    public CliProcess Process { get; }

    /// <summary>The point it waits at, as given (<c>name</c> or <c>name#n</c>).</summary>
    public string Point { get; }

    /// <summary>Starts <c>tenantbackup <paramref name="arguments"/></c> and returns once it waits at <paramref name="point"/>.</summary>
    public static async Task<PausedCli> StartAsync(IEnumerable<string> arguments, string point)
    {
        var signalFile = Path.Combine(Path.GetTempPath(), $"tenantbackup-pause-{Guid.NewGuid():N}");
        var process = CliProcess.Start(
            arguments,
            new Dictionary<string, string?> { ["TENANTBACKUP_TEST_PAUSE_AT"] = point, ["TENANTBACKUP_TEST_PAUSE_FILE"] = signalFile });
        var watch = Stopwatch.StartNew();
        while (!File.Exists(signalFile))
        {
            if (process.HasExited)
            {
                var result = await process.WaitAsync(TimeSpan.FromSeconds(5));
                process.Dispose();
                Assert.Fail($"tenantbackup ended without reaching the pause point {point}.{Environment.NewLine}{result.Describe()}");
            }

            if (watch.Elapsed > ReachTimeout)
            {
                process.Dispose();
                throw new TimeoutException($"tenantbackup did not reach the pause point {point} within {ReachTimeout.TotalSeconds:0} s.");
            }

            await Task.Delay(10);
        }

        return new PausedCli(process, signalFile, point);
    }

    /// <summary><c>kill -9</c> where it waits; returns how it ended.</summary>
    public async Task<CliResult> KillAsync()
    {
        Process.Kill();
        var result = await Process.WaitAsync(TimeSpan.FromSeconds(30));
        File.Delete(_signalFile);
        return result;
    }

    /// <summary>Lets it carry on from the pause point; returns how it ended.</summary>
    public async Task<CliResult> ResumeAsync()
    {
        File.Delete(_signalFile);
        return await Process.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public void Dispose()
    {
        Process.Dispose();
        File.Delete(_signalFile);
    }
}
