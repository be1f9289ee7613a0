namespace TenantBackup.Engine.Internal;

/// <summary>
/// Named steps of a backup and a restore where the fault-injection tests can stop a real <c>tenantbackup</c> process
/// and then <c>kill -9</c> it (or break its connection, or let it go on). Timing a kill by sleeps or file sizes cannot
/// reach the short steps that matter most (the rename, the index write, the swap of tenant folders around COMMIT), and
/// would not land on the same step twice on a busy machine.
/// </summary>
/// <remarks>
/// Off unless <c>TENANTBACKUP_TEST_PAUSE_AT</c> is set, which no operator has a reason to do: <c>point</c> or
/// <c>point#n</c> (the n-th time that point is reached, from 1). The process then writes the point's name into the file
/// named by <c>TENANTBACKUP_TEST_PAUSE_FILE</c> and waits, holding all it holds, until that file is deleted.
/// </remarks>
internal static class PausePoints
{
    private static readonly string? _point;
    private static readonly int _occurrence;
    private static readonly string? _signalFile;
    private static int _reached;

    static PausePoints()
    {
        var spec = Environment.GetEnvironmentVariable("TENANTBACKUP_TEST_PAUSE_AT");
        _signalFile = Environment.GetEnvironmentVariable("TENANTBACKUP_TEST_PAUSE_FILE");
        if (string.IsNullOrEmpty(spec) || string.IsNullOrEmpty(_signalFile))
        {
            return;
        }

        var hash = spec.LastIndexOf('#');
        _point = hash < 0 ? spec : spec[..hash];
        _occurrence = hash < 0 ? 1 : int.Parse(spec[(hash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Marks that the run has reached <paramref name="point"/>; waits there when a test asked for it.</summary>
    public static void Reach(string point)
    {
        if (_point is null || !string.Equals(point, _point, StringComparison.Ordinal)
            || Interlocked.Increment(ref _reached) != _occurrence)
        {
            return;
        }

        File.WriteAllText(_signalFile!, point);
        while (File.Exists(_signalFile))
        {
            Thread.Sleep(10);
        }
    }
}
