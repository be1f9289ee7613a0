using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Repository;

/// <summary>
/// The exclusive OS lock on <c>backups.json.lock</c> that every index writer holds. .NET takes <c>FileShare.None</c>
/// as <c>flock(LOCK_EX)</c> on Unix and a sharing lock on Windows, so it works across processes, and the OS drops
/// it when the holder dies. The holder writes who it is into the file for the humans who find it.
/// </summary>
internal sealed class IndexLock : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);
    private readonly FileStream _stream;

    private IndexLock(FileStream stream) => _stream = stream;

    public static async Task<IndexLock> AcquireAsync(string lockPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                WriteHolder(stream);
                return new IndexLock(stream);
            }
            catch (IOException) when (watch.Elapsed < timeout)
            {
                await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new TenantBackupException(
                    ErrorCode.IndexLocked,
                    $"Another TenantBackup process has held the repository index lock '{lockPath}' for more than {timeout.TotalSeconds:0} s. " +
                    "Wait for it to finish, or raise the timeout.",
                    lockPath,
                    e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();

    private static void WriteHolder(FileStream stream)
    {
        var holder = new
        {
            Host = Environment.MachineName,
            ProcessId = Environment.ProcessId,
            Command = Environment.GetCommandLineArgs().FirstOrDefault(),
            Since = DateTimeOffset.UtcNow,
        };
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(holder, Json.Options));
        stream.SetLength(0);
        stream.Write(bytes);
        stream.Flush(flushToDisk: false);
    }
}
