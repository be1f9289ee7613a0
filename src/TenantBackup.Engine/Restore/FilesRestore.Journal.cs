using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// The swap journal: what a restore killed between the swap and COMMIT (kill -9, power loss), or one whose COMMIT got no
// answer, leaves for the next one.
internal sealed partial class FilesRestore
{
    private const string JournalSuffix = ".swap";

    /// <summary>
    /// Written beside each folder before its swap and deleted once the swap is settled (completed or undone). It names the
    /// restore's transaction, so the next restore can ask the server whether it committed and then finish the swap (drop
    /// the old folder) or undo it (put the old folder back), instead of leaving files that disagree with the rows.
    /// </summary>
    internal sealed record Journal(long Transaction, string Database, string Destination, string Staging, string? PreRestore);

    /// <summary>The restore's transaction (<c>txid_current()</c>) and its database, recorded in the journal.</summary>
    internal sealed record SwapTransaction(long Id, string Database);

    /// <summary>
    /// Settles the swaps that killed restores left at <paramref name="targets"/>, by their transaction's fate on
    /// <paramref name="connection"/>. Runs under the tenant's exclusive lock, so a restore of that tenant that left a
    /// journal is no longer running. A journal of another database, or of a transaction whose fate the server no longer
    /// knows, is left alone with a warning.
    /// </summary>
    public static async Task RecoverAsync(
        IReadOnlyList<FileRestoreTarget> targets,
        Npgsql.NpgsqlConnection connection,
        string database,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        foreach (var target in targets)
        {
            string destination = Resolve(Normalize(target.Destination));
            string? parent = Path.GetDirectoryName(destination);
            if (parent is null || !Directory.Exists(parent))
            {
                continue;
            }

            foreach (string path in Directory.EnumerateFiles(parent, Path.GetFileName(destination) + ".restore-*" + JournalSuffix))
            {
                Journal? journal = ReadJournal(path);
                if (journal is null || !string.Equals(journal.Destination, destination, PathComparison))
                {
                    continue;
                }

                if (!string.Equals(journal.Database, database, StringComparison.Ordinal))
                {
                    logger.LogWarning(
                        "{Journal} is of a restore into {Database}, not this one; the folder {Destination} is left as it is",
                        path,
                        journal.Database,
                        destination);
                    continue;
                }

                string? status = await StatusAsync(connection, journal.Transaction, cancellationToken).ConfigureAwait(false);
                switch (status)
                {
                    case "committed":
                        FinishSwap(journal);
                        break;
                    case "aborted":
                        UndoSwap(journal);
                        break;
                    default:
                        logger.LogWarning(
                            "{Journal}: the server cannot tell whether transaction {Transaction} committed ({Status}); "
                            + "see docs/reliability.md to settle the folder {Destination} by hand",
                            path, journal.Transaction, status ?? "unknown", destination);
                        continue;
                }

                File.Delete(path);
                logger.LogWarning(
                    "A restore into {Destination} did not finish its swap (killed, or its COMMIT got no answer); its transaction "
                    + "{Transaction} was {Status}, so the folder now holds {Files} files",
                    destination, journal.Transaction, status, status == "committed" ? "the restored" : "its earlier");
            }
        }
    }

    /// <summary><c>committed</c>, <c>aborted</c>, <c>in progress</c>, or null when the server does not know the transaction.</summary>
    public static async Task<string?> StatusAsync(
        Npgsql.NpgsqlConnection connection, long transaction, CancellationToken cancellationToken)
    {
        try
        {
            var statuses = await Db.QueryAsync(
                    connection,
                    "SELECT txid_status($1)",
                    r => r.IsDBNull(0) ? null : r.GetString(0),
                    cancellationToken,
                    Db.Param(transaction))
                .ConfigureAwait(false);
            return statuses[0];
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.InvalidParameterValue)
        {
            // "transaction ID is in the future": the journal is of another server that happens to have the same address.
            return null;
        }
    }

    /// <summary>Committed: the restored folder is in place (the swap ends before COMMIT); the old one goes.</summary>
    private static void FinishSwap(Journal journal)
    {
        if (journal.PreRestore is not null && Directory.Exists(journal.PreRestore))
        {
            Directory.Delete(journal.PreRestore, recursive: true);
        }

        DeleteOwner(journal.Staging);
    }

    /// <summary>Rolled back: the restored folder (if it got in) goes, the old one (if it was moved) comes back.</summary>
    private static void UndoSwap(Journal journal)
    {
        // Every slot's staging folder exists before the first rename, so a missing one was moved into place.
        if (!Directory.Exists(journal.Staging) && Directory.Exists(journal.Destination))
        {
            Directory.Delete(journal.Destination, recursive: true);
        }

        if (journal.PreRestore is not null && Directory.Exists(journal.PreRestore) && !Exists(journal.Destination))
        {
            Directory.Move(journal.PreRestore, journal.Destination);
        }

        if (Directory.Exists(journal.Staging))
        {
            Directory.Delete(journal.Staging, recursive: true);
        }

        DeleteOwner(journal.Staging);
    }

    private static void WriteJournal(Slot slot, SwapTransaction transaction, string? preRestore)
    {
        slot.Journal = slot.Staging + JournalSuffix;
        var journal = new Journal(transaction.Id, transaction.Database, slot.Destination!, slot.Staging!, preRestore);
        WriteRecord(slot.Journal, journal, FileMode.Create);
    }

    /// <summary>Writes a small JSON record beside a folder and flushes it to disk before the folder is touched.</summary>
    private static void WriteRecord<T>(string path, T record, FileMode mode)
    {
        using var stream = new FileStream(path, mode, FileAccess.Write, FileShare.None);
        stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, Json.Options)));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>A record <see cref="WriteRecord"/> wrote; null when it cannot be read or was cut short by a kill.</summary>
    private static T? ReadRecord<T>(string path)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json.Options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The swap is settled (completed, or undone without a failure): the journals go.</summary>
    private void DeleteJournals()
    {
        foreach (Slot slot in _slots.Where(s => s.Journal is not null))
        {
            try
            {
                File.Delete(slot.Journal!);
                slot.Journal = null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A journal of a settled swap: the next restore finds its transaction's fate and changes nothing.
            }
        }
    }

    // Null when cut short: the process died while writing it, before the first rename of its folder.
    private static Journal? ReadJournal(string path) => ReadRecord<Journal>(path);
}
