using Microsoft.Extensions.Logging;
using Npgsql;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// COMMIT, and what the restore does when the server's answer to it never comes.
public sealed partial class RestoreEngine
{
    /// <summary>How long a restore whose COMMIT got no answer tries to learn the outcome before it leaves that to the next one.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Commits, with the files already swapped in. If the server answers COMMIT with an error it rolled back for certain:
    /// the files go back and the safety backup goes. If the connection breaks before the answer comes, the server may
    /// have committed or not, so the files are not put back blindly (that could leave the restored rows with the old
    /// files): the swap stays journaled, and a fresh connection asks the server what became of
    /// <paramref name="transaction"/>. Committed, the restore succeeded in fact and returns normally; rolled back, the
    /// swap is undone and the safety backup removed; not learned, the journal is left for the next restore of the tenant
    /// (or the operator) to settle, and the safety backup stays.
    /// </summary>
    private async Task CommitAsync(
        RestoreSession session,
        FilesRestore? files,
        Context context,
        long transaction,
        string? safetyId,
        CancellationToken cancellationToken)
    {
        try
        {
            await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            // The server answered COMMIT with an error (a deferred constraint, or a session terminated while it waited):
            // then it rolled back for certain, so the restore undoes all of its traces as any failure before COMMIT does.
            files?.RollBack();
            await RemoveSafetyBackupAsync(context, safetyId).ConfigureAwait(false);
            throw PostgresErrors.Map(e, context.Database);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or OperationCanceledException)
        {
            var journals = files?.HandOverToJournal() ?? [];
            var (status, reason) = await AskOutcomeAsync(context, transaction).ConfigureAwait(false);
            var unsettled = journals.Where(File.Exists).ToList();
            if (status == "committed")
            {
                // The rows are restored and the files are in place: reporting a failure would send the operator to
                // restore again, or to undo a restore that is whole. The safety backup stays, as after any restore.
                _logger.LogWarning(
                    "The answer to the restore's COMMIT was lost ({Message}), but the server committed it: the tenant is restored "
                    + "({Restored})",
                    e.Message,
                    files is null ? "rows" : "rows and files");
                WarnUnsettled(unsettled);
                return;
            }

            // Only a known rollback lets the safety backup go: unknown, it may be the only copy of the tenant as it was.
            if (status == "aborted")
            {
                await RemoveSafetyBackupAsync(context, safetyId).ConfigureAwait(false);
                safetyId = null;
            }

            throw CommitLost(e, context, transaction, status, reason, unsettled, safetyId);
        }

        PausePoints.Reach("restore.committed");
        files?.Complete();
        foreach (var folder in files?.LeftoverFolders ?? [])
        {
            _logger.LogWarning("The restore committed, but the replaced folder {Folder} could not be removed; delete it by hand", folder);
        }
    }

    /// <summary>
    /// Asks the server, on a fresh connection, whether <paramref name="transaction"/> committed, and settles the files'
    /// swap journals by the answer. Returns <c>committed</c>, <c>aborted</c>, or null with the reason it could not tell.
    /// </summary>
    private async Task<(string? Status, string Reason)> AskOutcomeAsync(Context context, long transaction)
    {
        // Not the caller's token: it may be the one that was cancelled, and the question must be asked anyway.
        using var timeout = new CancellationTokenSource(SettleTimeout);
        try
        {
            var dataSource = Connections.CreateDataSource(context.Request.ConnectionString);
            await using (dataSource.ConfigureAwait(false))
            {
                var connection = await Connections.OpenAsync(dataSource, timeout.Token).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    // The broken session holds the tenant's lock until the server sees it gone, and its transaction is
                    // decided by then: waiting for the lock waits for the answer, and keeps other restores of the tenant
                    // away from the folders while the swap is settled.
                    var column = context.Source.Metadata.Tenant.Column;
                    await TenantLock.AcquireExclusiveAsync(connection, column, context.TargetTenant, SettleTimeout, timeout.Token)
                        .ConfigureAwait(false);
                    try
                    {
                        var status = await FilesRestore.StatusAsync(connection, transaction, timeout.Token).ConfigureAwait(false);
                        if (status is not ("committed" or "aborted"))
                        {
                            return (null, $"the server says the transaction is {status ?? "unknown to it"}");
                        }

                        await SettleFilesAsync(context, connection, timeout.Token).ConfigureAwait(false);
                        return (status, "");
                    }
                    finally
                    {
                        await TenantLock.ReleaseAtEndAsync(connection, column, context.TargetTenant, exclusive: true, _logger)
                            .ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception e) when (e is TenantBackupException or NpgsqlException or OperationCanceledException)
        {
            // The cause, not the wrapper's advice: that speaks of a whole run ("nothing was kept"), not of this question.
            return (null, e is OperationCanceledException
                ? $"no answer within {SettleTimeout.TotalSeconds:0} s"
                : (e.InnerException ?? e).Message.TrimEnd('.'));
        }
    }

    /// <summary>Finishes or undoes the journaled swap; a journal that cannot be settled now stays for the next restore.</summary>
    private async Task SettleFilesAsync(Context context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (context.FileTargets.Count == 0)
        {
            return;
        }

        try
        {
            await FilesRestore.RecoverAsync(context.FileTargets, connection, context.Database, _logger, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not settle the tenant folders' swap now: {Message}", e.Message);
        }
    }

    private void WarnUnsettled(List<string> journals)
    {
        foreach (var journal in journals)
        {
            _logger.LogWarning(
                "The swap journal {Journal} could not be settled now; the next restore of this tenant settles it (or by hand: "
                + "docs/reliability.md)",
                journal);
        }
    }

    private static TenantBackupException CommitLost(
        Exception error,
        Context context,
        long transaction,
        string? status,
        string reason,
        List<string> unsettled,
        string? safetyId)
    {
        var settledLater = $"the swap journal {string.Join(", ", unsettled)} is settled by the next restore of this tenant "
            + "(or by hand: docs/reliability.md).";
        var known = status == "aborted"
            ? "asked on a new connection, the server rolled it back: " + (unsettled.Count == 0
                ? "rows and files are as before. Nothing was kept; run the restore again."
                : "the rows are as before, but the tenant files could not all be put back: " + settledLater)
            : $"could not reach the server to ask whether it committed ({reason}): " + (unsettled.Count > 0
                ? settledLater
                : $"SELECT txid_status({transaction}) tells whether the tenant's rows were restored.");
        var safety = safetyId is null ? "" : $" Backup {safetyId} holds the tenant as it was before.";
        return new TenantBackupException(
            ErrorCode.ConnectionFailed,
            $"The connection broke during the restore's COMMIT ({error.Message.TrimEnd('.')}), before the server's answer came; "
                + $"{known}{safety}",
            context.Database,
            error);
    }

    private async Task RemoveSafetyBackupAsync(Context context, string? safetyId)
    {
        if (safetyId is not null)
        {
            await RemoveBackupAsync(context.Source.OpenRepository(_logger), safetyId).ConfigureAwait(false);
        }
    }
}
