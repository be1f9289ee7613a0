using System.Buffers;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// Puts the archive's tenant files in place (design §Restore step 9) so that they change together with the database
/// or not at all. Each folder is extracted into a staging folder beside it, <c>&lt;dest&gt;.restore-&lt;id8&gt;</c> (same
/// parent, so the swap is a rename on one file system); just before COMMIT <see cref="SwapIn(SwapTransaction?)"/> renames the live
/// folder to <c>&lt;dest&gt;.pre-restore-&lt;yyyyMMddTHHmmssZ&gt;</c> and the staged one into place; <see cref="RollBack"/>
/// undoes that when COMMIT fails, and <see cref="Complete"/> drops the old folders once it succeeded. When COMMIT got no
/// answer, <see cref="HandOverToJournal"/> leaves the swap for the server's answer to settle.
/// </summary>
/// <remarks>
/// A folder left behind by a restore that was killed is never reused. One that the swap journal of a killed restore
/// names is settled by <see cref="RecoverAsync"/>; a staging folder without a journal, whose owner record names the
/// same database and tenant, is removed by <see cref="RemoveAbandonedStaging"/>; anything else (a pre-restore folder
/// may hold the only copy of someone's files) is the operator's call. This restore takes the next free name instead
/// (<c>&lt;dest&gt;.restore-&lt;id8&gt;-2</c>, <c>-3</c> ...). A destination that is a symbolic link is
/// followed: the folder it points to is swapped and the link keeps pointing at the restored files. File contents
/// and modification times come from the archive; permissions are the process's defaults (the archive records
/// none worth keeping, and a crafted one must not hand out set-uid bits).
/// </remarks>
internal sealed partial class FilesRestore : IDisposable
{
    private const int CopyBufferSize = 128 * 1024;

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly List<Slot> _slots;
    private readonly string _id8;
    private readonly StagingOwner? _owner;
    private readonly List<string> _createdFolders = [];
    private readonly List<string> _leftovers = [];
    private State _state;

    /// <summary>Prepares the restore of <paramref name="targets"/>; nothing on disk is touched until the first entry.</summary>
    /// <param name="targets">What <see cref="Destinations"/> returned.</param>
    /// <param name="restoreId">The restore's id; its last eight characters name the staging folders.</param>
    /// <param name="owner">Recorded beside each staging folder, so that a later restore of the tenant may remove it.</param>
    public FilesRestore(IReadOnlyList<FileRestoreTarget> targets, string restoreId, StagingOwner? owner = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentException.ThrowIfNullOrEmpty(restoreId);
        if (restoreId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || restoreId.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("The restore id must be usable in a file name.", nameof(restoreId));
        }

        foreach (var target in targets)
        {
            if (!Path.IsPathFullyQualified(target.Destination) || !target.EntryPrefix.EndsWith('/')
                || !target.EntryPrefix.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"'{target.EntryPrefix}' -> '{target.Destination}' is not a target from Destinations.", nameof(targets));
            }
        }

        _slots = targets.Select(t => new Slot(t with { Destination = Normalize(t.Destination) })).ToList();
        _id8 = restoreId.Length > 8 ? Ids.Short(restoreId) : restoreId;
        _owner = owner;
    }

    private enum State
    {
        Extracting,
        Swapped,
        Completed,
        RolledBack,
        Journaled,
        Failed,
        Disposed,
    }

    /// <summary>Files extracted so far.</summary>
    public int FileCount { get; private set; }

    /// <summary>Bytes of file content extracted so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Old folders that <see cref="Complete"/> could not delete; the caller warns about them.</summary>
    public IReadOnlyList<string> LeftoverFolders => _leftovers;

    /// <summary>
    /// Writes one archive entry, whose name starts with a target's <see cref="FileRestoreTarget.EntryPrefix"/>, into
    /// that target's staging folder (created on first use), keeping the entry's modification time. The content is
    /// streamed and flushed to disk, so a swap after COMMIT never exposes half-written files after a crash.
    /// </summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.ArchiveCorrupt"/> for an entry under no target, one that would land outside its staging
    /// folder, or one that clashes with an earlier entry; <see cref="ErrorCode.IOError"/> when writing fails.
    /// </exception>
    public async Task ExtractAsync(ArchiveEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        CheckState(State.Extracting);
        Slot slot = SlotFor(entry.Name);
        string relative = entry.Name[slot.Target.EntryPrefix.Length..];
        if (!ArchiveLayout.IsSafeEntryName(relative))
        {
            throw EntryCorrupt(entry.Name, "has an unsafe name");
        }

        string staging = Prepare(slot);

        // The reader checked the name already; this holds even if it one day lets something through.
        string path = Path.GetFullPath(Path.Combine(staging, relative.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw EntryCorrupt(entry.Name, "would be written outside its folder");
        }

        try
        {
            CreateFolders(staging, Path.GetDirectoryName(path)!, entry.Name);
            if (Exists(path))
            {
                throw EntryCorrupt(entry.Name, "clashes with an earlier entry (the same name, or one differing only in letter case here)");
            }

            long written = await WriteFileAsync(path, entry, cancellationToken).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
            FileCount++;
            Bytes += written;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TenantBackupException(
                ErrorCode.IOError,
                $"Cannot write the restored file '{path}': {ex.Message.TrimEnd('.')}. Free disk space or give this account write access "
                + $"to '{Path.GetDirectoryName(staging)}', then restore again; nothing has been changed.",
                path,
                ex);
        }
    }

    private static async Task<long> WriteFileAsync(string path, ArchiveEntry entry, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,

            // A disk that cannot hold the file says so before anything is written.
            PreallocationSize = entry.Size,
        };
        var file = new FileStream(path, options);
        await using (file.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                long total = 0;
                int read;
                while ((read = await ReadAsync(entry, buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    total += read;
                }

                file.Flush(flushToDisk: true);
                return total;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static async Task<int> ReadAsync(ArchiveEntry entry, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await entry.Data.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // Not the restored file's fault: keep the write failure's advice for write failures.
            throw new TenantBackupException(
                ErrorCode.IOError,
                $"Cannot read entry {entry.Name} of the archive: {ex.Message.TrimEnd('.')}. Check the disk it is on.",
                entry.Name,
                ex);
        }
    }

    private Slot SlotFor(string name)
    {
        foreach (Slot slot in _slots)
        {
            if (name.StartsWith(slot.Target.EntryPrefix, StringComparison.Ordinal))
            {
                return slot;
            }
        }

        throw EntryCorrupt(name, "is not under any of the file folders listed in tenantbackup.json");
    }

    /// <summary>The slot's staging folder, created with any missing parents of the destination on first use.</summary>
    private string Prepare(Slot slot)
    {
        if (slot.Staging is not null)
        {
            return slot.Staging;
        }

        string destination = slot.Target.Destination;
        try
        {
            destination = Resolve(destination);
            string parent = Path.GetDirectoryName(destination)
                ?? throw new IOException("a file system's root cannot be swapped; restore the files to a folder below it");
            if (File.Exists(destination))
            {
                throw new IOException("it is a file, not a folder; move it away or restore the files to another folder");
            }

            CreateMissingParents(parent);
            string staging = FreshName($"{destination}.restore-{_id8}");

            // First: a folder that a kill leaves without its record is never removed by a later restore.
            WriteOwner(staging);
            try
            {
                Directory.CreateDirectory(staging);
            }
            catch
            {
                DeleteOwner(staging);
                throw;
            }

            slot.Destination = destination;
            slot.Staging = staging;
            return staging;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TenantBackupException(
                ErrorCode.IOError,
                $"Cannot restore files to '{destination}': {ex.Message.TrimEnd('.')}. Give this account write access to the folder "
                + "that holds it, or restore the files to another folder; nothing has been changed.",
                destination,
                ex);
        }
    }

    private static string Resolve(string destination)
    {
        var info = new DirectoryInfo(destination);
        if (info.LinkTarget is null)
        {
            return destination;
        }

        FileSystemInfo? final = info.ResolveLinkTarget(returnFinalTarget: true);
        return final is null ? destination : Normalize(final.FullName);
    }

    private void CreateMissingParents(string folder)
    {
        var missing = new Stack<string>();
        for (string? current = folder; current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Push(current);
        }

        while (missing.TryPop(out string? next))
        {
            Directory.CreateDirectory(next);
            _createdFolders.Add(next);
        }
    }

    /// <summary>Creates the entry's folders inside the staging folder; a file in the way means two entries clash.</summary>
    private static void CreateFolders(string staging, string folder, string entryName)
    {
        for (string? current = folder; current is not null && !string.Equals(current, staging, StringComparison.Ordinal);
             current = Path.GetDirectoryName(current))
        {
            if (File.Exists(current))
            {
                throw EntryCorrupt(entryName, $"needs a folder where an earlier entry is a file ('{current}')");
            }
        }

        Directory.CreateDirectory(folder);
    }

    /// <summary>
    /// <paramref name="path"/>, or the first of <c>path-2</c>, <c>path-3</c> ... that nothing occupies, nor an owner record or
    /// journal of a folder of that name.
    /// </summary>
    private static string FreshName(string path)
    {
        string name = path;
        for (int n = 2; Exists(name) || Exists(name + OwnerSuffix) || Exists(name + JournalSuffix); n++)
        {
            name = $"{path}-{n}";
        }

        return name;
    }

    /// <summary>Anything at <paramref name="path"/>, a dangling symbolic link included.</summary>
    private static bool Exists(string path) =>
        File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private void CheckState(State expected)
    {
        ObjectDisposedException.ThrowIf(_state == State.Disposed, this);
        if (_state != expected)
        {
            throw new InvalidOperationException($"The files restore is {_state}; this step needs it {expected}.");
        }
    }

    private static TenantBackupException EntryCorrupt(string name, string what) => new(
        ErrorCode.ArchiveCorrupt,
        $"The archive is damaged: entry '{name}' {what}. Verify it and use another backup or copy.",
        name);

    /// <summary>One target and what this restore has done to it so far.</summary>
    private sealed class Slot(FileRestoreTarget target)
    {
        public FileRestoreTarget Target { get; } = target;

        /// <summary>The folder swapped: the target's destination, or the folder it links to.</summary>
        public string? Destination { get; set; }

        public string? Staging { get; set; }

        /// <summary>Where the live folder went, while it is there.</summary>
        public string? PreRestore { get; set; }

        /// <summary>True while the staged folder sits at <see cref="Destination"/>.</summary>
        public bool StagedIn { get; set; }

        /// <summary>The swap journal written for this folder, until the swap is settled.</summary>
        public string? Journal { get; set; }
    }
}
