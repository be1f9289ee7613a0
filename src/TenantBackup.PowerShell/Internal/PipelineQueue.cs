using System.Collections.Concurrent;
using TenantBackup.Engine;
using TenantBackup.Engine.Logging;

namespace TenantBackup.PowerShell.Internal;

/// <summary>Something the engine said on a worker thread, to be written on the pipeline thread.</summary>
internal abstract record PipelineMessage;

/// <summary>A log entry of the engine.</summary>
internal sealed record LogMessage(EngineLogLevel Level, string Text) : PipelineMessage;

/// <summary>The latest progress changed; read it with <see cref="PipelineQueue.TakeProgress"/>.</summary>
internal sealed record ProgressChanged : PipelineMessage
{
    public static readonly ProgressChanged Instance = new();
}

/// <summary>
/// Carries engine messages from worker threads to the one thread that may call <c>Write*</c>.
/// Progress is coalesced: a burst of per-block reports becomes one update with the newest numbers,
/// so a fast export is not slowed down by the host drawing progress bars.
/// </summary>
internal sealed class PipelineQueue : IProgress<ProgressEvent>, IDisposable
{
    private readonly BlockingCollection<PipelineMessage> _messages = [];
    private ProgressEvent? _latestProgress;

    /// <summary>Queues a message; dropped when the operation has already ended.</summary>
    public void Post(PipelineMessage message)
    {
        try
        {
            _messages.Add(message);
        }
        catch (InvalidOperationException)
        {
            // Completed or disposed (ObjectDisposedException derives from it): the operation is over.
        }
    }

    /// <inheritdoc/>
    public void Report(ProgressEvent value)
    {
        if (Interlocked.Exchange(ref _latestProgress, value) is null)
        {
            Post(ProgressChanged.Instance);
        }
    }

    /// <summary>The newest progress not yet shown, or null.</summary>
    public ProgressEvent? TakeProgress() => Interlocked.Exchange(ref _latestProgress, null);

    /// <summary>No more messages will come; <see cref="Drain"/> ends once the queue is empty.</summary>
    public void Complete()
    {
        try
        {
            _messages.CompleteAdding();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Blocks the calling thread and yields messages until <see cref="Complete"/> and the queue is empty; calls
    /// <paramref name="idle"/> whenever nothing came for a moment.
    /// </summary>
    public IEnumerable<PipelineMessage> Drain(Action idle)
    {
        while (!_messages.IsCompleted)
        {
            if (_messages.TryTake(out var message, IdleMilliseconds))
            {
                yield return message;
            }
            else
            {
                idle();
            }
        }
    }

    private const int IdleMilliseconds = 200;

    /// <inheritdoc/>
    public void Dispose() => _messages.Dispose();
}
