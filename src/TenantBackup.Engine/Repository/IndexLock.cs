using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Repository;

/// <summary>
/// The exclusive OS lock on <c>backups.json.lock</c> that every index writer holds. .NET takes <c>FileShare.None</c>
/// as <c>flock(LOCK_EX)</c> on Unix and a sharing lock on Windows, so it works across processes, and the OS drops
/// it when the holder dies. The holder also writes who it is into <c>backups.json.lock.holder</c>, which (unlike the
/// locked file) others can read: a waiter that gives up names the holder, and a record left behind by a holder that
/// died is reported when the next writer takes the lock over.
/// </summary>
internal sealed class IndexLock : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);
    private readonly FileStream _stream;
    private readonly string _holderPath;

    private IndexLock(FileStream stream, string holderPath)
    {
        _stream = stream;
        _holderPath = holderPath;
    }

    /// <summary>Who holds (or last held) a lock, as its holder recorded it.</summary>
    internal sealed record Holder(string? Host, int ProcessId, string? Command, DateTimeOffset Since)
    {
        /// <summary>True when the holder ran on this machine and its process is no longer there.</summary>
        public bool IsGoneFromThisHost =>
            string.Equals(Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase) && !IsRunning(ProcessId);

        public override string ToString() => $"process {ProcessId} on {Host ?? "an unknown host"} ({Command ?? "unknown command"}) "
            + $"since {Since.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC";

        private static bool IsRunning(int processId)
        {
            try
            {
                using var process = Process.GetProcessById(processId);
                return !process.HasExited;
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

    /// <summary>The path of the holder record beside <paramref name="lockPath"/>.</summary>
    public static string HolderPath(string lockPath) => lockPath + ".holder";

    public static async Task<IndexLock> AcquireAsync(
        string lockPath, TimeSpan timeout, CancellationToken cancellationToken, ILogger? logger = null)
    {
        var watch = Stopwatch.StartNew();
        var holderPath = HolderPath(lockPath);
        while (true)
        {
            try
            {
                var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                // A clean release deletes the record, so one found now was left by a holder that died holding the lock.
                if (ReadHolder(holderPath) is { } stale)
                {
                    logger?.LogWarning(
                        "Took over the repository index lock {LockPath} left by {Holder}, which ended without releasing it{Gone}",
                        lockPath,
                        stale,
                        stale.IsGoneFromThisHost ? " and is no longer running" : "");
                }

                WriteHolder(stream, holderPath);
                return new IndexLock(stream, holderPath);
            }
            catch (IOException) when (watch.Elapsed < timeout)
            {
                await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new TenantBackupException(ErrorCode.IndexLocked, TimedOut(lockPath, timeout, ReadHolder(holderPath)), lockPath, e);
            }
        }
    }

    public void Dispose()
    {
        // Deleted while still locked, so the next holder never reads a record of a lock that was released cleanly.
        BackupRepository.TryDelete(_holderPath);
        _stream.Dispose();
    }

    private static string TimedOut(string lockPath, TimeSpan timeout, Holder? holder)
    {
        var waited = $"Waited {timeout.TotalSeconds:0} s for the repository index lock '{lockPath}'";
        if (holder is null)
        {
            return $"{waited}; another TenantBackup process holds it. Wait for it to finish, or raise the timeout.";
        }

        return holder.IsGoneFromThisHost
            ? $"{waited}, held in the name of {holder}, which is no longer running: a process it started may still hold it. " +
                "Find the process that has the file open and end it."
            : $"{waited}, held by {holder}. Wait for it to finish, or raise the timeout.";
    }

    private static Holder? ReadHolder(string holderPath)
    {
        try
        {
            return JsonSerializer.Deserialize<Holder>(File.ReadAllText(holderPath), Json.Options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // No record, or one cut short: nothing to say about the holder.
            return null;
        }
    }

    private static void WriteHolder(FileStream stream, string holderPath)
    {
        var holder = new Holder(
            Environment.MachineName, Environment.ProcessId, Environment.GetCommandLineArgs().FirstOrDefault(), DateTimeOffset.UtcNow);
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(holder, Json.Options));
        // The locked file keeps the record too, for the humans who find it.
        stream.SetLength(0);
        stream.Write(bytes);
        stream.Flush(flushToDisk: false);

        var temporary = $"{holderPath}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, holderPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The record only explains the lock; the lock itself is held.
            BackupRepository.TryDelete(temporary);
        }
    }
}
