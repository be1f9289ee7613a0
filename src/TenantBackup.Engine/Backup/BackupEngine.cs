using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Archive.Encryption;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;
using TenantBackup.Engine.Logging;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Backup;

/// <summary>
/// Backs up one tenant (design §Backup): one read-only snapshot for every table, rows streamed from <c>COPY</c>
/// into the archive without parsing them, the archive written as <c>.partial</c>, its <c>.sha256</c> written and the
/// archive renamed only when whole, then the index entry. A failed or cancelled backup leaves none of them behind.
/// </summary>
public sealed class BackupEngine
{
    private readonly IEngineLog? _log;
    private readonly ILogger _logger;

    /// <summary>Creates the engine; <paramref name="log"/> receives the steps of each run.</summary>
    public BackupEngine(IEngineLog? log = null)
    {
        _log = log;
        _logger = EngineLogger.For(log);
    }

    /// <summary>Backs up the tenant named in <paramref name="request"/>, returning the new index entry.</summary>
    public async Task<BackupInfo> BackupAsync(
        BackupRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        Validate(request);
        var compression = ChooseCompression(request);
        var repository = BackupRepository.Open(request.Repository, create: true);
        repository.Logger = _logger;

        // An index that cannot be used would refuse the new entry at the end: refuse before the export, not after it.
        _ = repository.ReadIndex();
        foreach (var stale in repository.RemoveStalePartials())
        {
            _logger.LogWarning("Removed {Path}, left by a backup that was killed before it finished", stale);
        }

        var dataSource = Connections.CreateDataSource(request.ConnectionString);
        await using (dataSource.ConfigureAwait(false))
        {
            var target = Connections.Describe(dataSource);
            try
            {
                return await RunAsync(request, compression, repository, dataSource, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw PostgresErrors.Map(e, target);
            }
        }
    }

    private async Task<BackupInfo> RunAsync(
        BackupRequest request,
        Compression compression,
        BackupRepository repository,
        NpgsqlDataSource dataSource,
        IProgress<ProgressEvent>? progress,
        CancellationToken cancellationToken)
    {
        var connection = await Connections.OpenAsync(dataSource, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            PausePoints.Reach("backup.connected");
            var watch = Stopwatch.StartNew();
            progress?.Report(new ProgressEvent("lock", null, 0, 0, 0, 0));
            var lockTaken = false;
            try
            {
                if (!request.TenantLockHeld)
                {
                    await TenantLock.AcquireSharedAsync(
                            connection, request.TenantColumn, request.Tenant, request.LockTimeout, cancellationToken)
                        .ConfigureAwait(false);
                    lockTaken = true;
                }

                PausePoints.Reach("backup.locked");
                var snapshot = await TenantSnapshot.BeginAsync(connection, request, cancellationToken).ConfigureAwait(false);
                await using (snapshot.ConfigureAwait(false))
                {
                    progress?.Report(new ProgressEvent("scope", null, 0, 0, 0, 0));
                    var scope = await snapshot.ResolveScopeAsync(cancellationToken).ConfigureAwait(false);
                    _logger.LogInformation(
                        "Tenant {Column} = {Tenant}: {Tables} tables in scope, root {Root}, {Cycles} FK cycles",
                        request.TenantColumn,
                        request.Tenant,
                        scope.Tables.Count,
                        scope.Root?.Table.QualifiedName ?? "(none)",
                        scope.Cycles.Count);

                    PausePoints.Reach("backup.scope");
                    var createdAt = DateTimeOffset.UtcNow;
                    var id = Ids.NewId(createdAt);
                    var fileName = ArchiveFileName(request.Tenant, createdAt, id, compression, request.Encryption is not null);
                    var metadata = await snapshot.MetadataAsync(id, scope, compression, createdAt, cancellationToken).ConfigureAwait(false);
                    var export = new ArchiveExport(repository, fileName, _logger);
                    IndexEntry entry;
                    long bytes;
                    try
                    {
                        var written = await export.WriteAsync(snapshot, scope, metadata, request, compression, progress, cancellationToken)
                            .ConfigureAwait(false);
                        await snapshot.EndAsync(cancellationToken).ConfigureAwait(false);
                        if (lockTaken)
                        {
                            // Let restores in before the archive is published: the snapshot has all it needs.
                            await TenantLock.ReleaseSharedAsync(connection, request.TenantColumn, request.Tenant, cancellationToken)
                                .ConfigureAwait(false);
                            lockTaken = false;
                        }

                        entry = await export.PublishAsync(written, metadata, scope, cancellationToken).ConfigureAwait(false);
                        PausePoints.Reach("backup.sidecar");
                        bytes = written.Summary.Manifest.Totals.Bytes;
                        await repository.UpdateIndexAsync(index => index.Backups.Add(entry), cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        export.Discard();
                        throw;
                    }

                    _logger.LogInformation(
                        "Backup {Id} of tenant {Tenant}: {Rows} rows, {Size} bytes in {Seconds:0.0} s -> {Path}",
                        id, request.Tenant, entry.RowCount, entry.Size, watch.Elapsed.TotalSeconds, entry.Path);
                    progress?.Report(new ProgressEvent("done", null, scope.Tables.Count, scope.Tables.Count, entry.RowCount, bytes));
                    return repository.ToInfo(entry);
                }
            }
            finally
            {
                if (lockTaken)
                {
                    // Released here, not left to the pool: a pooled session would hold it until its next use, and a session
                    // whose end never reaches the server (a dead network path) until TCP keepalive gives up on it.
                    await TenantLock.ReleaseAtEndAsync(connection, request.TenantColumn, request.Tenant, exclusive: false, _logger)
                        .ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// <c>&lt;tenant-slug&gt;-&lt;yyyyMMddTHHmmssZ&gt;-&lt;id8&gt;.tar.zst</c>, as the design names archives; an encrypted one
    /// ends in <c>.tar.zst.tbenc</c>, since tar cannot open it.
    /// </summary>
    internal static string ArchiveFileName(
        string tenant, DateTimeOffset createdAt, string id, Compression compression, bool encrypted = false)
    {
        var slug = new string(tenant.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-').ToArray());
        slug = string.Join('-', slug.Split('-', StringSplitOptions.RemoveEmptyEntries));
        slug = slug.Length > 40 ? slug[..40].TrimEnd('-') : slug;
        return $"tenant-{(slug.Length == 0 ? "x" : slug)}-{createdAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-" +
            $"{Ids.Short(id)}{CompressionStreams.Extension(compression)}{(encrypted ? ArchiveEncryption.FileExtension : "")}";
    }

    private static void Validate(BackupRequest request)
    {
        if (string.IsNullOrEmpty(request.Tenant))
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, "A tenant value is required (-Tenant / --tenant).", "Tenant");
        }

        if (string.IsNullOrWhiteSpace(request.TenantColumn))
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, "The tenant column name is empty (-TenantColumn / --tenant-column).", "TenantColumn");
        }

        if (request.LockTimeout < TimeSpan.Zero)
        {
            throw new TenantBackupException(ErrorCode.InvalidArgument, "The lock timeout cannot be negative.", "LockTimeout");
        }

        foreach (var path in request.IncludePaths.Where(p => !Directory.Exists(p)))
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, $"The folder '{path}' given with -IncludePath / --include-path does not exist.", path);
        }
    }

    /// <summary>zstd when libzstd loads; otherwise gzip with a warning, unless zstd was asked for by name.</summary>
    private Compression ChooseCompression(BackupRequest request)
    {
        if (request.Compression != Compression.Zstd || ZstdNative.IsAvailable)
        {
            return request.Compression;
        }

        if (request.CompressionExplicit)
        {
            throw new TenantBackupException(
                ErrorCode.CompressionUnavailable,
                $"zstd compression was asked for but libzstd cannot be loaded ({ZstdNative.UnavailableReason}). " +
                "Install it (apt-get install libzstd1, dnf install libzstd, brew install zstd) or choose -Compression Gzip.",
                "Compression");
        }

        _logger.LogWarning(
            "libzstd cannot be loaded ({Reason}); writing a gzip archive instead. Install libzstd for zstd archives.",
            ZstdNative.UnavailableReason);
        return Compression.Gzip;
    }
}
