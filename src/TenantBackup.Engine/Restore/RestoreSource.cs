using System.Globalization;
using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// The archive a restore reads, found by id in the index or by path, and verified whole (its <c>.sha256</c>, the
/// index's checksum and every entry against the manifest) before anything else happens.
/// </summary>
internal sealed class RestoreSource
{
    private RestoreSource(
        string archivePath,
        string repositoryRoot,
        IndexEntry? entry,
        ArchiveVerification verification,
        BackupMetadata metadata,
        SchemaDocument schema,
        EncryptionKey? encryption)
    {
        Encryption = encryption;
        ArchivePath = archivePath;
        RepositoryRoot = repositoryRoot;
        Entry = entry;
        Sha256 = verification.Sha256;
        FileCount = verification.Manifest!.Entries.Count(e => e.Name.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal));
        RowsByOrdinal = verification.Manifest.Entries
            .Where(e => e.Name.StartsWith(ArchiveLayout.DataPrefix, StringComparison.Ordinal))
            .GroupBy(e => int.Parse(e.Name.AsSpan(ArchiveLayout.DataPrefix.Length, 4), CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Sum(e => e.Rows ?? 0));
        Metadata = metadata;
        Schema = schema;
    }

    public string ArchivePath { get; }

    /// <summary>Where the safety backup and the restore's history go; created only when a restore writes there.</summary>
    public string RepositoryRoot { get; }

    /// <summary>The archive's index entry, when the repository lists it.</summary>
    public IndexEntry? Entry { get; }

    /// <summary>The SHA-256 the verification computed; the staging pass must read the same bytes.</summary>
    public string Sha256 { get; }

    /// <summary>Rows of each table's data entries, by the table's ordinal in <c>schema.json</c>.</summary>
    public IReadOnlyDictionary<int, long> RowsByOrdinal { get; }

    /// <summary>Tenant files in the archive.</summary>
    public int FileCount { get; }

    public BackupMetadata Metadata { get; }

    /// <summary>The key the archive was verified with, for reading it again.</summary>
    public EncryptionKey? Encryption { get; }

    public SchemaDocument Schema { get; }

    public static async Task<RestoreSource> OpenAsync(RestoreRequest request, CancellationToken cancellationToken)
    {
        var (path, root, entry) = Locate(request);
        var verification = await ArchiveVerifier.VerifyAsync(path, request.Encryption, cancellationToken).ConfigureAwait(false);
        if (verification.KeyProblem is { } keyProblem)
        {
            throw new TenantBackupException(ErrorCode.DecryptionFailed, $"{keyProblem.TrimEnd('.')}. Nothing was restored.", path);
        }

        if (!verification.IsValid)
        {
            var code = verification.Problems.Any(p => p.Code == ErrorCode.ChecksumMismatch)
                ? ErrorCode.ChecksumMismatch
                : ErrorCode.ArchiveCorrupt;
            throw new TenantBackupException(
                code,
                $"{path} failed verification, so nothing was restored: {string.Join(" ", verification.Problems.Select(p => p.Message))} " +
                "Restore another backup, or a good copy of this one.",
                path);
        }

        if (entry is not null
            && !string.IsNullOrEmpty(entry.Sha256)
            && !string.Equals(entry.Sha256, verification.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new TenantBackupException(
                ErrorCode.ChecksumMismatch,
                $"{path} has SHA-256 {verification.Sha256}, but the index recorded {entry.Sha256} for backup {entry.Id}: " +
                "the file was changed or replaced. Nothing was restored; restore another backup, or a good copy of this one.",
                path);
        }

        var (metadata, schema) = await ReadHeadAsync(path, request.Encryption, cancellationToken).ConfigureAwait(false);
        return new RestoreSource(path, root, entry, verification, metadata, schema, request.Encryption);
    }

    /// <summary>The repository the archive belongs to, created if need be; <paramref name="logger"/> hears of lock take-overs.</summary>
    public BackupRepository OpenRepository(ILogger logger)
    {
        var repository = BackupRepository.Open(RepositoryRoot, create: true);
        repository.Logger = logger;
        return repository;
    }

    private static (string Path, string RepositoryRoot, IndexEntry? Entry) Locate(RestoreRequest request)
    {
        if (request.BackupId is { Length: > 0 } id)
        {
            var repository = BackupRepository.Open(request.Repository);
            var entry = repository.ReadIndex().Backups.FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase))
                ?? throw new TenantBackupException(
                    ErrorCode.ArchiveNotFound,
                    $"No backup with id {id} in the repository {repository.Root}. " +
                    "List them with Get-TenantBackup (tenantbackup list), or give the archive's path.",
                    id);
            var path = repository.FullPath(entry);
            if (!File.Exists(path))
            {
                throw new TenantBackupException(
                    ErrorCode.ArchiveNotFound,
                    $"Backup {id} is in the index, but its archive {path} is gone. " +
                    "Run Sync-BackupIndex (tenantbackup sync) to see what is missing.",
                    path);
            }

            return (path, repository.Root, entry);
        }

        var archive = Path.GetFullPath(request.ArchivePath!);
        if (!File.Exists(archive))
        {
            throw new TenantBackupException(ErrorCode.ArchiveNotFound, $"The archive {archive} does not exist.", archive);
        }

        // An archive given by path still belongs to a repository: the one named, else the default, else its own folder.
        var root = request.Repository ?? (File.Exists(Path.Combine(Path.GetDirectoryName(archive)!, BackupRepository.IndexFileName))
            ? Path.GetDirectoryName(archive)
            : BackupRepository.DefaultPath);
        root = Path.GetFullPath(root!);
        if (!Directory.Exists(root))
        {
            return (archive, root, null);
        }

        var opened = BackupRepository.Open(root);
        var listed = opened.ReadIndex().Backups.FirstOrDefault(e => string.Equals(opened.FullPath(e), archive, StringComparison.Ordinal));
        return (archive, root, listed);
    }

    /// <summary>The archive's <c>tenantbackup.json</c> and <c>schema.json</c>, its first two entries.</summary>
    internal static async Task<(BackupMetadata, SchemaDocument)> ReadHeadAsync(
        string path, EncryptionKey? encryption, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);
        var reader = ArchiveReader.Open(file, path, encryption);
        await using (reader.ConfigureAwait(false))
        {
            var first = await reader.NextEntryAsync(cancellationToken).ConfigureAwait(false);
            var metadata = await reader.ReadJsonAsync<BackupMetadata>(first!, cancellationToken).ConfigureAwait(false);
            var second = await reader.NextEntryAsync(cancellationToken).ConfigureAwait(false);
            var schema = await reader.ReadJsonAsync<SchemaDocument>(second!, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(metadata.Format, ArchiveLayout.FormatId, StringComparison.Ordinal))
            {
                throw reader.Damaged($"its format is '{metadata.Format}', and this version of TenantBackup reads {ArchiveLayout.FormatId}");
            }

            if (SchemaDocumentChecks.FirstProblem(schema) is { } problem)
            {
                throw reader.Damaged($"its {ArchiveLayout.SchemaJson} cannot be used: {problem}");
            }

            return (metadata, schema);
        }
    }
}
