using System.Globalization;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// The swap around COMMIT, and its undo.
internal sealed partial class FilesRestore
{
    /// <summary>The swap without a journal (<see cref="SwapIn(SwapTransaction?)"/>).</summary>
    public void SwapIn() => SwapIn(null);

    /// <summary>
    /// Just before COMMIT: renames each live folder (if any) to <c>&lt;dest&gt;.pre-restore-&lt;yyyyMMddTHHmmssZ&gt;</c>
    /// and its staging folder to <c>&lt;dest&gt;</c>. A root with no files in the archive still gets an empty folder:
    /// the restore makes the folder equal the backup. If any rename fails, the ones done are undone.
    /// </summary>
    /// <param name="transaction">
    /// The restore's transaction: a journal naming it is written beside each folder first, so that a process killed before
    /// COMMIT leaves a swap the next restore can settle (<see cref="RecoverAsync"/>). Null writes none.
    /// </param>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.IOError"/> when a rename fails.</exception>
    public void SwapIn(SwapTransaction? transaction)
    {
        CheckState(State.Extracting);
        _state = State.Failed;
        foreach (Slot slot in _slots)
        {
            Prepare(slot);
        }

        string stamp = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        Slot? current = null;
        try
        {
            foreach (Slot slot in _slots)
            {
                current = slot;
                string destination = slot.Destination!;
                if (File.Exists(destination))
                {
                    throw new IOException($"'{destination}' is a file, not a folder");
                }

                string? old = Exists(destination) ? FreshName($"{destination}.pre-restore-{stamp}") : null;
                if (transaction is not null)
                {
                    WriteJournal(slot, transaction, old);
                }

                if (old is not null)
                {
                    Directory.Move(destination, old);
                    slot.PreRestore = old;
                    PausePoints.Reach("restore.swapping");
                }

                Directory.Move(slot.Staging!, destination);
                slot.StagedIn = true;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            List<string> failures = Undo();
            if (failures.Count == 0)
            {
                DeleteJournals();
            }

            string after = failures.Count == 0
                ? "Every folder is as it was before the restore"
                : "Not everything could be put back: " + string.Join("; ", failures);
            throw new TenantBackupException(
                ErrorCode.IOError,
                $"Cannot put the restored files in place at '{current?.Destination}': {ex.Message.TrimEnd('.')}. {after}. "
                + "Make sure no other program holds the folder and that this account may rename it, then restore again.",
                current?.Destination,
                ex);
        }

        _state = State.Swapped;
    }

    /// <summary>
    /// COMMIT failed (or anything after <see cref="SwapIn(SwapTransaction?)"/> did): puts the old folders back and removes the staged ones.
    /// </summary>
    /// <exception cref="TenantBackupException"><see cref="ErrorCode.IOError"/> naming every folder that could not be put back.</exception>
    public void RollBack()
    {
        CheckState(State.Swapped);
        _state = State.RolledBack;
        List<string> failures = Undo();
        if (failures.Count == 0)
        {
            DeleteJournals();
        }

        RemoveStaging();
        RemoveCreatedFolders();
        if (failures.Count > 0)
        {
            throw new TenantBackupException(
                ErrorCode.IOError,
                "The tenant's files could not all be put back as they were: " + string.Join("; ", failures) + ".",
                _slots.FirstOrDefault(s => s.PreRestore is not null)?.PreRestore);
        }
    }

    /// <summary>
    /// COMMIT succeeded: deletes the <c>.pre-restore-&lt;ts&gt;</c> folders (the pre-restore backup holds their files).
    /// Never throws: the restore is done; a folder that cannot be deleted is listed in <see cref="LeftoverFolders"/>.
    /// </summary>
    public void Complete()
    {
        CheckState(State.Swapped);
        _state = State.Completed;
        foreach (Slot slot in _slots.Where(s => s.PreRestore is not null))
        {
            if (TryDelete(slot.PreRestore!))
            {
                slot.PreRestore = null;
            }
            else
            {
                _leftovers.Add(slot.PreRestore!);
            }
        }

        DeleteJournals();
        foreach (Slot slot in _slots.Where(s => s.Staging is not null))
        {
            DeleteOwner(slot.Staging!);
        }
    }

    /// <summary>
    /// COMMIT got no answer, so whether the swap must stay is the server's to say: leaves the swapped folders, their old
    /// ones and the journals as they are, for <see cref="RecoverAsync"/> to settle once the transaction's fate is known.
    /// Dispose then touches nothing: the staged folders are live, and the journals are the only record of how to undo.
    /// </summary>
    /// <returns>The journals' paths.</returns>
    public IReadOnlyList<string> HandOverToJournal()
    {
        CheckState(State.Swapped);
        _state = State.Journaled;
        return _slots.Where(s => s.Journal is not null).Select(s => s.Journal!).ToList();
    }

    /// <summary>Not completed: rolls back (if swapped) and deletes the staging folders. Never throws.</summary>
    public void Dispose()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        if (_state == State.Swapped)
        {
            // The caller is already failing, or forgot to finish; what could not be put back stays on disk to be found.
            if (Undo().Count == 0)
            {
                DeleteJournals();
            }
        }

        if (_state is not (State.Completed or State.Journaled))
        {
            RemoveStaging();
            RemoveCreatedFolders();
        }

        _state = State.Disposed;
    }

    /// <summary>Moves each staged folder back to its staging name and each old folder back into place; says what failed.</summary>
    private List<string> Undo()
    {
        var failures = new List<string>();
        for (int i = _slots.Count - 1; i >= 0; i--)
        {
            Slot slot = _slots[i];
            try
            {
                if (slot.StagedIn)
                {
                    Directory.Move(slot.Destination!, slot.Staging!);
                    slot.StagedIn = false;
                }

                if (slot.PreRestore is not null)
                {
                    Directory.Move(slot.PreRestore, slot.Destination!);
                    slot.PreRestore = null;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                string restored = slot.StagedIn
                    ? $"the restored files are still at '{slot.Destination}'"
                    : "the restored files were moved away";
                string old = slot.PreRestore is null ? "there was no folder before" : $"the old folder is at '{slot.PreRestore}'";
                failures.Add($"{restored} and {old} ({ex.Message.TrimEnd('.')}); move them by hand");
            }
        }

        return failures;
    }

    private void RemoveStaging()
    {
        foreach (Slot slot in _slots)
        {
            if (slot.Staging is not null && !slot.StagedIn && TryDelete(slot.Staging))
            {
                DeleteOwner(slot.Staging);
                slot.Staging = null;
            }
        }
    }

    /// <summary>Removes the destination's parents this restore created, deepest first, where they are still empty.</summary>
    private void RemoveCreatedFolders()
    {
        for (int i = _createdFolders.Count - 1; i >= 0; i--)
        {
            try
            {
                Directory.Delete(_createdFolders[i], recursive: false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not empty: something else now lives there.
            }
        }

        _createdFolders.Clear();
    }

    private static bool TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
