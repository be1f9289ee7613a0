using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using TenantBackup.Engine.Internal;
using TenantBackup.Engine.Logging;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// Restores one tenant from an archive (design §Restore): the archive is verified before the database is touched,
/// the tenant is locked against other TenantBackup operations, a safety backup of the target tenant is taken, and
/// every change happens in one transaction, so a failure leaves the database, the files and the index as they were.
/// </summary>
public sealed partial class RestoreEngine
{
    private readonly IEngineLog? _log;
    private readonly ILogger _logger;

    /// <summary>Creates the engine; <paramref name="log"/> receives the steps of each run.</summary>
    public RestoreEngine(IEngineLog? log = null)
    {
        _log = log;
        _logger = EngineLogger.For(log);
    }

    /// <summary>
    /// What <see cref="RestoreAsync"/> would do with <paramref name="request"/>. It stages the rows to count them, then rolls back:
    /// nothing changes.
    /// </summary>
    public async Task<RestorePlan> PlanAsync(
        RestoreRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var run = await RunAsync(request, RunKind.Plan, progress, cancellationToken).ConfigureAwait(false);
        return run.Plan!;
    }

    /// <summary>Restores the backup named in <paramref name="request"/> and returns what was done.</summary>
    public async Task<RestoreResult> RestoreAsync(
        RestoreRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var run = await RunAsync(request, RunKind.Restore, progress, cancellationToken).ConfigureAwait(false);
        return run.Result!;
    }

    /// <summary>
    /// Runs the whole restore, every constraint checked, then rolls it back: whether the backup would restore into this
    /// database today, and with what counts. No safety backup, no files, no history entry; sequences are not moved.
    /// </summary>
    internal async Task<RestoreResult> RehearseAsync(
        RestoreRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var run = await RunAsync(
                request with { NoPreBackup = true, SkipFiles = true, FilesPath = null }, RunKind.Rehearsal, progress, cancellationToken)
            .ConfigureAwait(false);
        return run.Result!;
    }

    private enum RunKind
    {
        Plan,
        Restore,
        Rehearsal,
    }

    private sealed record Run(RestorePlan? Plan, RestoreResult? Result);

    private async Task<Run> RunAsync(
        RestoreRequest request, RunKind kind, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        Validate(request);
        var startedAt = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        progress?.Report(new ProgressEvent("verify", null, 0, 0, 0, 0));
        var source = await RestoreSource.OpenAsync(request, cancellationToken).ConfigureAwait(false);
        var targetTenant = string.IsNullOrEmpty(request.TargetTenant) ? source.Metadata.Tenant.Value : request.TargetTenant;
        var fileTargets = FileTargets(request, source, targetTenant);
        PausePoints.Reach("restore.verified");

        var dataSource = Connections.CreateDataSource(request.ConnectionString);
        await using (dataSource.ConfigureAwait(false))
        {
            var database = Connections.Describe(dataSource);
            try
            {
                var connection = await Connections.OpenAsync(dataSource, cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var column = source.Metadata.Tenant.Column;
                    progress?.Report(new ProgressEvent("lock", null, 0, 0, 0, 0));
                    await TenantLock.AcquireExclusiveAsync(connection, column, targetTenant, request.LockTimeout, cancellationToken)
                        .ConfigureAwait(false);
                    PausePoints.Reach("restore.locked");
                    var context = new Context(
                        request, source, targetTenant, fileTargets, database, startedAt, watch, kind == RunKind.Rehearsal);
                    try
                    {
                        return kind == RunKind.Plan
                            ? new Run(
                                await PlanInTransactionAsync(connection, context, progress, cancellationToken).ConfigureAwait(false), null)
                            : new Run(
                                null, await RestoreAndRecordAsync(connection, context, progress, cancellationToken).ConfigureAwait(false));
                    }
                    finally
                    {
                        // Released here, not left to the pool: a pooled session would hold it until its next use.
                        await TenantLock.ReleaseAtEndAsync(connection, column, targetTenant, exclusive: true, _logger)
                            .ConfigureAwait(false);
                    }
                }
            }
            catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw PostgresErrors.Map(e, database);
            }
        }
    }

    /// <summary>Everything a run has settled before it opens its transaction.</summary>
    private sealed record Context(
        RestoreRequest Request,
        RestoreSource Source,
        string TargetTenant,
        IReadOnlyList<FileRestoreTarget> FileTargets,
        string Database,
        DateTimeOffset StartedAt,
        Stopwatch Watch,
        bool Rehearsal);

    private static async Task<RestorePlan> PlanInTransactionAsync(
        NpgsqlConnection connection, Context context, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var session = await RestoreSession.BeginAsync(
                connection, context.Request, context.Source, context.TargetTenant, cancellationToken)
            .ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var problems = (await session.PrepareAsync(cancellationToken).ConfigureAwait(false)).Select(p => p.Message).ToList();
            var tables = new List<RestoreTablePlan>();
            var collisions = new List<KeyCollisionInfo>();
            if (!session.Differences.Any(d => d.Blocking))
            {
                progress?.Report(new ProgressEvent("stage", null, 0, session.Tables.Count, 0, 0));
                await session.StageAsync(null, progress, cancellationToken).ConfigureAwait(false);
                collisions = await session.RemapAsync(simulate: true, cancellationToken).ConfigureAwait(false);
                problems.AddRange(collisions.Where(c => c.Resolution == "refuse").Select(c => CollisionMessage(c, session.RootTable)));
                problems.AddRange(await session.CheckReferencesAsync(cancellationToken).ConfigureAwait(false));
                tables = await session.PlanTablesAsync(cancellationToken).ConfigureAwait(false);
            }

            // Disposing the session rolls the staging back; nothing was written to the tenant's tables.
            return new RestorePlan
            {
                BackupId = context.Source.Metadata.Id,
                Tenant = context.Source.Metadata.Tenant.Value,
                TargetTenant = context.TargetTenant,
                Database = context.Database,
                Mode = context.Request.Mode,
                KeyCollision = context.Request.KeyCollision,
                RootValues = context.Request.RootValues,
                PreRestoreBackup = !context.Request.NoPreBackup
                    && await session.TargetTenantHasRowsAsync(cancellationToken).ConfigureAwait(false),
                Tables = tables,
                Collisions = collisions,
                Cycles = session.Cycles,
                SchemaDifferences = session.Differences,
                Files = context.FileTargets.Count == 0 ? 0 : context.Source.FileCount,
                FilesDestinations = context.FileTargets.Select(t => t.Destination).ToList(),
                Problems = problems,
                Path = context.Source.ArchivePath,
            };
        }
    }

    private async Task<RestoreResult> RestoreAndRecordAsync(
        NpgsqlConnection connection, Context context, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var result = await RestoreInTransactionAsync(connection, context, progress, cancellationToken).ConfigureAwait(false);
        if (!context.Rehearsal)
        {
            await RecordAsync(context, result).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// Checks and stages everything first; then, with every precondition met, takes the safety backup (under the
    /// tenant's exclusive lock, so no other TenantBackup operation changes the tenant in between), writes, and commits.
    /// A failure before COMMIT rolls back the rows and the files and removes the safety backup again; for a failure of
    /// COMMIT itself see <see cref="CommitAsync"/>.
    /// </summary>
    private async Task<RestoreResult> RestoreInTransactionAsync(
        NpgsqlConnection connection, Context context, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var restoreId = Ids.NewId(context.StartedAt);
        var owner = new FilesRestore.StagingOwner(context.Database, context.Source.Metadata.Tenant.Column, context.TargetTenant);
        if (context.FileTargets.Count > 0)
        {
            // Before the safety backup, so that it holds the folders as they were before the killed restore too.
            await FilesRestore.RecoverAsync(context.FileTargets, connection, context.Database, _logger, cancellationToken)
                .ConfigureAwait(false);
            FilesRestore.RemoveAbandonedStaging(context.FileTargets, owner, _logger);
        }

        using var files = context.FileTargets.Count == 0 ? null : new FilesRestore(context.FileTargets, restoreId, owner);
        var session = await RestoreSession.BeginAsync(
                connection, context.Request, context.Source, context.TargetTenant, cancellationToken)
            .ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            await StageAndCheckAsync(session, files, context, progress, cancellationToken).ConfigureAwait(false);
            PausePoints.Reach("restore.staged");
            var safety = context.Request.NoPreBackup
                ? null
                : await SafetyBackupAsync(context, progress, cancellationToken).ConfigureAwait(false);
            long transaction;
            try
            {
                await session.WriteAsync(progress, moveSequences: !context.Rehearsal, cancellationToken).ConfigureAwait(false);
                PausePoints.Reach("restore.written");
                // A rehearsal (verify's test restore) never commits; saying so keeps its progress honest.
                var ending = context.Rehearsal ? "rollback" : "commit";
                progress?.Report(new ProgressEvent(ending, null, session.Tables.Count, session.Tables.Count, 0, 0));

                // Named in the swap journal, and asked about if COMMIT's answer is lost.
                transaction = context.Rehearsal ? 0 : await session.TransactionIdAsync(cancellationToken).ConfigureAwait(false);
                files?.SwapIn(new FilesRestore.SwapTransaction(transaction, context.Database));

                PausePoints.Reach("restore.swapped");
            }
            catch
            {
                // The staged files are dropped with the FilesRestore; SwapIn undoes its own renames when it fails.
                if (safety is not null)
                {
                    await RemoveBackupAsync(context.Source.OpenRepository(_logger), safety.Id).ConfigureAwait(false);
                }

                throw;
            }

            if (!context.Rehearsal)
            {
                // A rehearsal ends here: disposing the session rolls every change back.
                await CommitAsync(session, files, context, transaction, safety?.Id, cancellationToken).ConfigureAwait(false);
            }

            var tables = session.Tables.Select(t => t.ToResult()).ToList();
            _logger.LogInformation(
                "Restored backup {Id} into tenant {Tenant} ({Mode}): {Rows} rows in {Seconds:0.0} s",
                context.Source.Metadata.Id,
                context.TargetTenant,
                context.Request.Mode,
                tables.Sum(t => t.Inserted + t.Updated),
                context.Watch.Elapsed.TotalSeconds);
            progress?.Report(new ProgressEvent("done", null, tables.Count, tables.Count, tables.Sum(t => t.Inserted + t.Updated), 0));
            return new RestoreResult
            {
                Id = restoreId,
                BackupId = context.Source.Metadata.Id,
                Tenant = session.SourceTenant,
                TargetTenant = context.TargetTenant,
                Database = context.Database,
                Mode = context.Request.Mode,
                PreRestoreBackupId = safety?.Id,
                RootValues = context.Request.RootValues,
                StartedAt = context.StartedAt,
                Duration = context.Watch.Elapsed,
                FilesRestored = files?.FileCount ?? 0,
                Path = context.Source.ArchivePath,
                Tables = tables,
            };
        }
    }

    /// <summary>
    /// Every check that can refuse the restore, with the archive's rows staged and remapped; nothing of the tenant's is touched yet.
    /// </summary>
    private static async Task StageAndCheckAsync(
        RestoreSession session,
        FilesRestore? files,
        Context context,
        IProgress<ProgressEvent>? progress,
        CancellationToken cancellationToken)
    {
        var problems = await session.PrepareAsync(cancellationToken).ConfigureAwait(false);
        if (problems.Count > 0)
        {
            var code = problems[0].Code;
            throw new TenantBackupException(
                code,
                string.Join(" ", problems.Select(p => p.Message)) + (code == ErrorCode.SchemaMismatch ? "" : " Nothing was changed."),
                code == ErrorCode.SchemaMismatch ? session.Differences : problems.Select(p => p.Message).ToList());
        }

        progress?.Report(new ProgressEvent("stage", null, 0, session.Tables.Count, 0, 0));
        await session.StageAsync(files, progress, cancellationToken).ConfigureAwait(false);
        progress?.Report(new ProgressEvent("remap", null, 0, session.Tables.Count, 0, 0));
        var collisions = await session.RemapAsync(simulate: context.Rehearsal, cancellationToken).ConfigureAwait(false);
        var refused = collisions.Where(c => c.Resolution == "refuse").ToList();
        if (refused.Count > 0)
        {
            throw new TenantBackupException(
                ErrorCode.KeyCollision,
                string.Join(" ", refused.Select(c => CollisionMessage(c, session.RootTable))) + " Nothing was changed.",
                refused);
        }

        var missing = await session.CheckReferencesAsync(cancellationToken).ConfigureAwait(false);
        if (missing.Count > 0)
        {
            throw new TenantBackupException(
                ErrorCode.ScopeError, string.Join(" ", missing) + " Nothing was changed.", context.TargetTenant);
        }
    }

    private static IReadOnlyList<FileRestoreTarget> FileTargets(RestoreRequest request, RestoreSource source, string targetTenant)
    {
        var roots = source.Metadata.Files;
        if (request.SkipFiles || roots.Count == 0)
        {
            return [];
        }

        if (request.FilesPath is null && !string.Equals(targetTenant, source.Metadata.Tenant.Value, StringComparison.Ordinal))
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                $"The backup holds tenant files from {string.Join(", ", roots.Select(r => r.Source))}, " +
                $"and putting them back there would overwrite tenant {source.Metadata.Tenant.Value}'s files. " +
                $"Say where tenant {targetTenant}'s files go with -FilesPath / --files-path, " +
                "or leave them out with -SkipFiles / --skip-files.",
                "FilesPath");
        }

        return FilesRestore.Destinations(roots, request.FilesPath);
    }

    private static string CollisionMessage(KeyCollisionInfo collision, string? rootTable)
    {
        var columns = string.Join(", ", collision.Columns);
        if (collision.Surrogate)
        {
            return $"{collision.Count} key(s) of {collision.Table} ({columns}) are used by other tenants " +
                $"(e.g. {string.Join(", ", collision.Examples)}); " +
                "-KeyCollision Fail / --key-collision fail refuses to give them new values; " +
                "-KeyCollision Remap / --key-collision remap renumbers them.";
        }

        var message = $"{collision.Count} row(s) of {collision.Table} have a ({columns}) " +
            $"that another tenant already uses (e.g. {string.Join(", ", collision.Examples)}); such natural keys cannot be renumbered. ";
        return string.Equals(collision.Table, rootTable, StringComparison.Ordinal)
            ? message + $"Give the tenant's root row its own value with -RootValues @{{ {collision.Columns[0]} = '...' }} / " +
                $"--root-value {collision.Columns[0]}=..., or restore into another database."
            : message + "Change them in the target, or restore into another database.";
    }

    private static void Validate(RestoreRequest request)
    {
        if (string.IsNullOrEmpty(request.BackupId) == string.IsNullOrEmpty(request.ArchivePath))
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                "Name the backup to restore by its id (-Id) or by its archive file (-Path): one of the two. " +
                "The CLI takes either as its argument.",
                "BackupId");
        }

        if (request.TargetTenant is { Length: 0 })
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, "The target tenant value is empty (-TargetTenant / --target-tenant).", "TargetTenant");
        }

        if (request.LockTimeout < TimeSpan.Zero)
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, "The lock timeout cannot be negative.", "LockTimeout");
        }

        if (request.RootValues.Keys.FirstOrDefault(string.IsNullOrWhiteSpace) is { } blank)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                "A column name of -RootValues / --root-value is empty; give each value as COLUMN=VALUE.",
                blank);
        }

        if (request.SkipFiles && request.FilesPath is not null)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                "-SkipFiles / --skip-files and -FilesPath / --files-path contradict each other; give one.",
                "FilesPath");
        }
    }
}
