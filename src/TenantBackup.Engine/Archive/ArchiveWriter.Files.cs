namespace TenantBackup.Engine.Archive;

// Tenant files: a folder's regular files under files/.
internal sealed partial class ArchiveWriter
{
    /// <summary>
    /// Adds every regular file under <paramref name="sourceDirectory"/> as <c>&lt;entryPrefix&gt;relative/path</c>
    /// (the prefix is under <c>files/</c>, one per included folder), in ordinal
    /// order. Empty directories are not kept. Anything else (symbolic link, device, FIFO, socket) stops the backup
    /// with <see cref="ErrorCode.InvalidArgument"/> naming it, rather than being left out silently.
    /// </summary>
    public Task WriteFilesAsync(string sourceDirectory, string entryPrefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceDirectory);
        if (!entryPrefix.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal) || !entryPrefix.EndsWith('/'))
        {
            throw new ArgumentException(
                $"The entry prefix must start with {ArchiveLayout.FilesPrefix} and end with '/'.", nameof(entryPrefix));
        }

        CheckOpen();
        CheckFirstEntriesWritten();
        string root = Path.GetFullPath(sourceDirectory);
        if (!Directory.Exists(root))
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, $"The folder '{root}' to include does not exist.", root);
        }

        return RunAsync(() => WriteFolderAsync(root, root, entryPrefix, cancellationToken));
    }

    private async Task WriteFolderAsync(string root, string folder, string entryPrefix, CancellationToken cancellationToken)
    {
        string[] children = Directory.GetFileSystemEntries(folder);
        Array.Sort(children, StringComparer.Ordinal);
        foreach (string path in children)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (bool isRegular, bool isDirectory, string description) = FileKinds.Of(path);
            if (isDirectory)
            {
                await WriteFolderAsync(root, path, entryPrefix, cancellationToken).ConfigureAwait(false);
            }
            else if (isRegular)
            {
                await WriteFileAsync(root, path, entryPrefix, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new TenantBackupException(
                    ErrorCode.InvalidArgument,
                    $"'{path}' is {description}; only regular files and folders can be backed up. Remove it or include another folder.",
                    path);
            }
        }
    }

    private async Task WriteFileAsync(string root, string path, string entryPrefix, CancellationToken cancellationToken)
    {
        string name = entryPrefix + Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
        if (!ArchiveLayout.IsSafeEntryName(name) || !_names.Add(name))
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                $"'{path}' cannot be stored: its name is not portable (backslash, control character) or is already in the archive.",
                path);
        }

        var file = new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var data = new FileEntryStream(file);
        await using (data.ConfigureAwait(false))
        {
            await _tar.WriteEntryAsync(NewEntry(name, data), cancellationToken).ConfigureAwait(false);
            if (data.Position != data.Length || file.Length != data.Length)
            {
                throw new TenantBackupException(
                    ErrorCode.IOError,
                    $"'{path}' changed while it was being backed up; back it up again when it is not being written.",
                    path);
            }

            Record(name, data.Length, data.FinishSha256(), table: null, rows: null);
        }
    }
}
