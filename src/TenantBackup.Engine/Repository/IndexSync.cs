using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Archive.Encryption;
using TenantBackup.Engine.Logging;
using TenantBackup.Engine.Restore;

namespace TenantBackup.Engine.Repository;

/// <summary>
/// Sync-BackupIndex: compares <c>backups.json</c> with the archives in the folder and, when asked, repairs the index.
/// The comparison runs without the lock (verifying archives takes long, and backups must not wait for it); the repairs
/// are then applied under the lock to the index as it is by then, each one only if it still holds.
/// </summary>
public static class IndexSync
{
    private static readonly string[] ArchiveExtensions = [".tar.zst", ".tar.gz", ".tar", ArchiveEncryption.FileExtension];

    /// <summary>
    /// The discrepancies between the index of <see cref="IndexSyncRequest.Repository"/> and its files, of
    /// <see cref="IndexSyncRequest.Tenant"/>'s backups only when given. With <see cref="IndexSyncRequest.Apply"/> the index
    /// is repaired; without it nothing is written.
    /// </summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.RepositoryError"/> for a folder that does not exist; <see cref="ErrorCode.IndexCorrupt"/> for an
    /// unreadable index without Apply (with it, the index is set aside and rebuilt from the archives);
    /// <see cref="ErrorCode.IndexLocked"/> when another writer holds the index too long.
    /// </exception>
    /// <param name="request">What to compare, and whether to repair.</param>
    /// <param name="cancellationToken">Cancels the archive checks and the wait for the index lock.</param>
    /// <param name="log">Receives the warning when the index lock is taken over from a holder that died.</param>
    public static async Task<IReadOnlyList<IndexDiscrepancy>> RunAsync(
        IndexSyncRequest request, CancellationToken cancellationToken, IEngineLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tenant = request.Tenant;
        var apply = request.Apply;
        var repository = BackupRepository.Open(request.Repository);
        repository.Logger = EngineLogger.For(log);
        IndexDocument index;
        TenantBackupException? unreadable = null;
        try
        {
            index = repository.ReadIndex();
        }
        catch (TenantBackupException e) when (apply && e.Code == ErrorCode.IndexCorrupt && !BackupRepository.IsNewerSchema(e))
        {
            unreadable = e;
            index = new IndexDocument();
            // A rebuilt index holds what the archives say; leaving other tenants out would lose their backups.
            tenant = null;
        }

        var repairs = await PlanAsync(repository, index, tenant, request.Encryption, cancellationToken).ConfigureAwait(false);
        if (!apply)
        {
            return repairs.Select(r => r.Report(repository, attempted: false, applied: false)).ToList();
        }

        if (unreadable is null && repairs.TrueForAll(r => r.Change is null))
        {
            return repairs.Select(r => r.Report(repository, attempted: true, applied: false)).ToList();
        }

        string? setAside = null;
        var applied = await repository.UpdateIndexAsync(
            current => repairs.Select(r => r.Change?.Invoke(current) ?? false).ToList(),
            cancellationToken,
            unreadable: unreadable is null ? null : _ =>
            {
                setAside = SetAside(repository);
                return new IndexDocument();
            }).ConfigureAwait(false);

        var report = new List<IndexDiscrepancy>();
        if (unreadable is not null)
        {
            report.Add(new IndexDiscrepancy
            {
                Kind = IndexDiscrepancyKind.IndexCorrupt,
                Path = repository.IndexPath,
                Detail = unreadable.Message,
                Action = setAside is null
                    ? "none: the index was readable again when the lock was taken; the archives it lacked were added"
                    : $"moved aside to '{setAside}' and rebuilt from the archives",
                Applied = setAside is not null,
                Repository = repository.Root,
            });
        }

        report.AddRange(repairs.Select((r, i) => r.Report(repository, attempted: true, applied[i])));
        return report;
    }

    private static async Task<List<Repair>> PlanAsync(
        BackupRepository repository, IndexDocument index, string? tenant, EncryptionKey? key, CancellationToken cancellationToken)
    {
        var repairs = new List<Repair>();
        foreach (var entry in index.Backups.Where(e => tenant is null || string.Equals(e.Tenant, tenant, StringComparison.Ordinal)))
        {
            if (await CheckEntryAsync(repository, entry, key, cancellationToken).ConfigureAwait(false) is { } repair)
            {
                repairs.Add(repair);
            }
        }

        var listed = index.Backups.Select(repository.FullPath).ToHashSet(StringComparer.Ordinal);
        // A link to an archive elsewhere is not the repository's: adopted, it would make the index refuse itself.
        var archives = Directory.EnumerateFiles(repository.Root)
            .Where(f => ArchiveExtensions.Any(x => f.EndsWith(x, StringComparison.OrdinalIgnoreCase)) && !listed.Contains(f)
                && IndexChecks.StaysInside(f, repository.Root))
            .Order(StringComparer.Ordinal);
        foreach (var file in archives)
        {
            var repair = await CheckOrphanAsync(index, file, key, cancellationToken).ConfigureAwait(false);
            // An archive whose tenant cannot be read is shown only when no tenant was asked for.
            if (tenant is null || string.Equals(repair.Tenant, tenant, StringComparison.Ordinal))
            {
                repairs.Add(repair);
            }
        }

        return repairs;
    }

    private static async Task<Repair?> CheckEntryAsync(
        BackupRepository repository, IndexEntry entry, EncryptionKey? key, CancellationToken cancellationToken)
    {
        var path = repository.FullPath(entry);
        var id = entry.Id;
        if (!File.Exists(path))
        {
            const string Gone = "The index lists this backup, but its file is gone.";
            return string.Equals(entry.Status, BackupStatus.Missing, StringComparison.Ordinal)
                ? null
                : new Repair(IndexDiscrepancyKind.Missing, id, entry.Tenant, path, Gone, "mark it missing")
                {
                    Change = index => Find(index, id) is { } e && !File.Exists(path) && Set(e, BackupStatus.Missing, null),
                };
        }

        // A corrupt entry stays so until Test-BackupIntegrity finds the archive sound again.
        if (string.Equals(entry.Status, BackupStatus.Corrupt, StringComparison.Ordinal))
        {
            return null;
        }

        var drift = await DriftAsync(entry, path, cancellationToken).ConfigureAwait(false);
        if (drift.Count == 0)
        {
            return null;
        }

        // Only the archive itself can say which side is right.
        var (verification, problem) = await VerifyAsync(path, id, key, cancellationToken).ConfigureAwait(false);
        var detail = string.Join("; ", drift) + ".";
        if (verification?.KeyProblem is { } keyProblem)
        {
            // Without the contents there is no telling which side is right; a good archive must not be marked corrupt.
            return new Repair(IndexDiscrepancyKind.Mismatched, id, entry.Tenant, path, detail,
                $"none: {keyProblem.TrimEnd('.')}; run it again with the key to repair this entry");
        }

        if (problem is not null || verification is null)
        {
            return new Repair(IndexDiscrepancyKind.Mismatched, id, entry.Tenant, path, detail, $"mark it corrupt ({problem})")
            {
                Change = index => Find(index, id) is { } e && Set(e, BackupStatus.Corrupt, null),
            };
        }

        return new Repair(
            IndexDiscrepancyKind.Mismatched, id, entry.Tenant, path, detail,
            $"record the verified file as available ({verification.Size} bytes, SHA-256 {verification.Sha256})")
        {
            Change = index => Find(index, id) is { } e && Set(e, BackupStatus.Available, verification),
        };
    }

    private static async Task<List<string>> DriftAsync(IndexEntry entry, string path, CancellationToken cancellationToken)
    {
        var drift = new List<string>();
        if (string.Equals(entry.Status, BackupStatus.Missing, StringComparison.Ordinal))
        {
            drift.Add("the index marks it missing, but the file is there");
        }

        var size = new FileInfo(path).Length;
        if (size != entry.Size)
        {
            drift.Add($"the file has {size} bytes, the index records {entry.Size}");
        }

        try
        {
            if (await Sha256File.ReadAsync(path, cancellationToken).ConfigureAwait(false) is { } recorded
                && !string.Equals(recorded, entry.Sha256, StringComparison.Ordinal))
            {
                drift.Add($"{Path.GetFileName(Sha256File.PathFor(path))} records SHA-256 {recorded}, the index {entry.Sha256}");
            }
        }
        catch (TenantBackupException e) when (e.Code == ErrorCode.ChecksumMismatch)
        {
            drift.Add(e.Message.TrimEnd('.'));
        }

        return drift;
    }

    private static async Task<Repair> CheckOrphanAsync(
        IndexDocument index, string path, EncryptionKey? key, CancellationToken cancellationToken)
    {
        const string Detail = "The archive is in the folder, but the index does not list it.";
        var (verification, problem) = await VerifyAsync(path, expectedId: null, key, cancellationToken).ConfigureAwait(false);
        if (verification?.KeyProblem is { } keyProblem)
        {
            return new Repair(IndexDiscrepancyKind.Orphaned, null, null, path, Detail,
                $"none: not adopted, {keyProblem.TrimEnd('.')}; its tenantbackup.json is inside the encryption, so adopt it with its key");
        }

        BackupMetadata? metadata = null;
        SchemaDocument? schema = null;
        try
        {
            (metadata, schema) = await RestoreSource.ReadHeadAsync(path, key, cancellationToken).ConfigureAwait(false);
        }
        catch (TenantBackupException e) when (e.Code is ErrorCode.ArchiveCorrupt or ErrorCode.CompressionUnavailable)
        {
            problem ??= e.Message.TrimEnd('.');
        }

        if (metadata is not null && verification?.Manifest is { } manifest
            && !string.Equals(manifest.BackupId, metadata.Id, StringComparison.Ordinal))
        {
            problem ??= $"its manifest is of backup {manifest.BackupId}, its tenantbackup.json of {metadata.Id}";
        }

        if (metadata is not null && Find(index, metadata.Id) is { } listed)
        {
            problem ??= $"it holds backup {metadata.Id}, which the index lists at '{listed.Path}'";
        }

        if (problem is not null || verification?.Manifest is null || metadata is null || schema is null)
        {
            return new Repair(
                IndexDiscrepancyKind.Orphaned, metadata?.Id, metadata?.Tenant.Value, path, Detail, $"none: not adopted, {problem}");
        }

        var entry = IndexEntry.Describe(
            metadata,
            Path.GetFileName(path),
            verification.Size,
            verification.Sha256,
            schema.Tables.Count,
            verification.Manifest.Totals.Rows);
        entry.SetEncryption(verification.KeyId);
        return new Repair(IndexDiscrepancyKind.Orphaned, entry.Id, entry.Tenant, path, Detail, "adopt it as available")
        {
            Change = current =>
            {
                if (Find(current, entry.Id) is not null
                    || current.Backups.Exists(e => string.Equals(e.Path, entry.Path, StringComparison.Ordinal)))
                {
                    return false;
                }

                current.Backups.Add(entry);
                return true;
            },
        };
    }

    /// <summary>The archive's verification and the first thing wrong with it, or why it could not be read at all.</summary>
    private static async Task<(ArchiveVerification? Verification, string? Problem)> VerifyAsync(
        string path, string? expectedId, EncryptionKey? key, CancellationToken cancellationToken)
    {
        ArchiveVerification verification;
        try
        {
            verification = await ArchiveVerifier.VerifyAsync(path, key, cancellationToken).ConfigureAwait(false);
        }
        catch (TenantBackupException e) when (e.Code is ErrorCode.IOError or ErrorCode.CompressionUnavailable or ErrorCode.ArchiveNotFound)
        {
            return (null, e.Message.TrimEnd('.'));
        }

        if (!verification.IsValid)
        {
            var first = verification.Problems.Count > 0 ? verification.Problems[0].Message : verification.KeyProblem!;
            return (verification, first.TrimEnd('.'));
        }

        return expectedId is not null && !string.Equals(verification.Manifest?.BackupId, expectedId, StringComparison.Ordinal)
            ? (verification, $"the file holds backup {verification.Manifest?.BackupId}, not {expectedId}")
            : (verification, null);
    }

    private static IndexEntry? Find(IndexDocument index, string? id) =>
        index.Backups.Find(e => string.Equals(e.Id, id, StringComparison.Ordinal));

    private static bool Set(IndexEntry entry, string status, ArchiveVerification? verified)
    {
        entry.Status = status;
        if (verified is not null)
        {
            entry.Size = verified.Size;
            entry.Sha256 = verified.Sha256;
        }

        return true;
    }

    /// <summary>Moves the unreadable index to <c>backups.json.corrupt-&lt;UTC time&gt;</c>, never over an earlier one.</summary>
    private static string SetAside(BackupRepository repository)
    {
        var stem = $"{repository.IndexPath}.corrupt-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}";
        var target = stem;
        for (var n = 2; File.Exists(target); n++)
        {
            target = $"{stem}-{n}";
        }

        try
        {
            File.Move(repository.IndexPath, target);
            return target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TenantBackupException(
                ErrorCode.IOError,
                $"Cannot move the unreadable index '{repository.IndexPath}' aside to '{target}': {e.Message}",
                repository.IndexPath,
                e);
        }
    }

    /// <summary>One discrepancy and its repair; <see cref="Change"/> is null when the index cannot repair it.</summary>
    private sealed record Repair(IndexDiscrepancyKind Kind, string? Id, string? Tenant, string Path, string Detail, string Action)
    {
        /// <summary>Applies the repair to the index as it is under the lock; false when it no longer applies.</summary>
        public Func<IndexDocument, bool>? Change { get; init; }

        public IndexDiscrepancy Report(BackupRepository repository, bool attempted, bool applied) => new()
        {
            Kind = Kind,
            Id = Id,
            Tenant = Tenant,
            Path = Path,
            Detail = Detail,
            Action = Change is null || applied || !attempted ? Action : $"{Action} (not applied: the index changed meanwhile)",
            Applied = applied,
            Repository = repository.Root,
        };
    }
}
