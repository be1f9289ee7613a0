using System.Text.Json;
using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Repository;

/// <summary>
/// A folder of archives with its index, <c>backups.json</c>. Readers read the index without a lock (writers replace
/// it atomically); writers serialize on <c>backups.json.lock</c>, re-read, change, write a temp file and rename it over.
/// </summary>
public sealed class BackupRepository
{
    /// <summary>The index file's name.</summary>
    public const string IndexFileName = "backups.json";

    /// <summary>The environment variable naming the default repository.</summary>
    public const string EnvironmentVariable = "TENANTBACKUP_REPOSITORY";

    private const string NewerSchemaKey = "TenantBackup.NewerIndexSchema";

    private static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);

    private BackupRepository(string root) => Root = root;

    /// <summary>Full path of the folder.</summary>
    public string Root { get; }

    /// <summary>Where the index lock reports taking over a lock left by a holder that died; none by default.</summary>
    internal ILogger? Logger { get; set; }

    /// <summary>Full path of <c>backups.json</c>.</summary>
    public string IndexPath => Path.Combine(Root, IndexFileName);

    private string LockPath => IndexPath + ".lock";

    /// <summary>
    /// The folder used when none is given: <c>$TENANTBACKUP_REPOSITORY</c>, else <c>TenantBackup</c> in the
    /// per-user data folder (<c>$XDG_DATA_HOME</c> or <c>~/.local/share</c> on Linux, <c>%LOCALAPPDATA%</c> on Windows).
    /// </summary>
    public static string DefaultPath
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(
                    Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
                    "TenantBackup")
                : configured;
        }
    }

    /// <summary>Opens (and with <paramref name="create"/>, creates) the repository at <paramref name="path"/> or the default.</summary>
    public static BackupRepository Open(string? path, bool create = false)
    {
        var root = Path.GetFullPath(string.IsNullOrWhiteSpace(path) ? DefaultPath : path);
        if (!Directory.Exists(root))
        {
            if (!create)
            {
                throw new TenantBackupException(
                    ErrorCode.RepositoryError,
                    $"The repository folder '{root}' does not exist. Check -Repository / --repository or ${EnvironmentVariable}; " +
                    "a backup creates the folder when it first writes there.",
                    root);
            }

            try
            {
                Directory.CreateDirectory(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new TenantBackupException(
                    ErrorCode.RepositoryError, $"Cannot create the repository folder '{root}': {e.Message}", root, e);
            }
        }

        return new BackupRepository(root);
    }

    /// <summary>Backups in the index, oldest first, optionally of one tenant only.</summary>
    public IReadOnlyList<BackupInfo> List(string? tenant = null) =>
        ReadIndex().Backups
            .Where(e => tenant is null || string.Equals(e.Tenant, tenant, StringComparison.Ordinal))
            .OrderBy(e => e.CreatedAt)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .Select(ToInfo)
            .ToList();

    /// <summary>
    /// Deletes <c>*.partial</c> files left by backups that were killed: a live writer holds its file with an
    /// exclusive OS lock, so a partial file that can be locked has no writer any more.
    /// </summary>
    internal IReadOnlyList<string> RemoveStalePartials()
    {
        var removed = new List<string>();
        // The age check closes the gap between a writer creating its file and locking it.
        var settled = DateTime.UtcNow - TimeSpan.FromSeconds(10);
        foreach (var path in Directory.EnumerateFiles(Root, "*.partial").Where(p => File.GetLastWriteTimeUtc(p) < settled))
        {
            try
            {
                using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }

                File.Delete(path);
                removed.Add(path);

                // A backup killed between writing its .sha256 and renaming its .partial left the .sha256 of no archive.
                var sidecar = Path.ChangeExtension(path, null) + ".sha256";
                if (File.Exists(sidecar) && !File.Exists(Path.ChangeExtension(path, null)))
                {
                    File.Delete(sidecar);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still being written, or not ours to delete.
            }
        }

        return removed;
    }

    /// <summary>The full path of an entry's archive.</summary>
    internal string FullPath(IndexEntry entry) => Path.Combine(Root, entry.Path.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The public view of an index entry.</summary>
    internal BackupInfo ToInfo(IndexEntry entry) => new()
    {
        Id = entry.Id,
        Tenant = entry.Tenant,
        TenantColumn = entry.TenantColumn,
        Kind = entry.Kind,
        CreatedAt = entry.CreatedAt,
        Database = entry.Source.Database,
        Server = entry.Source.Host,
        TableCount = entry.TableCount,
        RowCount = entry.RowCount,
        Size = entry.Size,
        Status = entry.Status,
        Path = FullPath(entry),
        Repository = Root,
        Sha256 = entry.Sha256,
        Compression = entry.Compression,
        Encryption = entry.Encryption,
        KeyId = entry.KeyId,
        ParentId = entry.ParentId,
        CreatedBy = entry.CreatedBy,
        Message = entry.Message,
        LastVerifiedAt = entry.LastVerifiedAt,
        LastVerifyResult = entry.LastVerifyResult,
        RestoreCount = entry.Restores?.Count ?? 0,
        LastRestoredAt = entry.Restores?.Max(r => (DateTimeOffset?)r.RestoredAt),
    };

    /// <summary>Reads the index as it is now; a repository without one has no backups yet.</summary>
    internal IndexDocument ReadIndex()
    {
        string text;
        try
        {
            text = File.ReadAllText(IndexPath);
        }
        catch (FileNotFoundException)
        {
            return new IndexDocument();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TenantBackupException(ErrorCode.RepositoryError, $"Cannot read the index '{IndexPath}': {e.Message}", IndexPath, e);
        }

        return Parse(text);
    }

    /// <summary>
    /// Changes the index under the lock: re-reads it, applies <paramref name="change"/>, replaces the file atomically.
    /// <paramref name="unreadable"/>, when given, is called under the lock with an index that cannot be used and returns
    /// the document to start from instead (Sync-BackupIndex sets the bad file aside and rebuilds).
    /// </summary>
    internal async Task<T> UpdateIndexAsync<T>(
        Func<IndexDocument, T> change,
        CancellationToken cancellationToken,
        TimeSpan? lockTimeout = null,
        Func<TenantBackupException, IndexDocument>? unreadable = null)
    {
        using var held = await IndexLock.AcquireAsync(LockPath, lockTimeout ?? DefaultLockTimeout, cancellationToken, Logger)
            .ConfigureAwait(false);
        PausePoints.Reach("index.locked");
        RemoveStaleIndexTemps();
        IndexDocument index;
        try
        {
            index = ReadIndex();
        }
        catch (TenantBackupException e) when (e.Code == ErrorCode.IndexCorrupt && unreadable is not null && !IsNewerSchema(e))
        {
            index = unreadable(e);
        }

        var result = change(index);
        WriteIndex(index);
        PausePoints.Reach("index.replaced");
        return result;
    }

    /// <summary>Changes the index under the lock; see <see cref="UpdateIndexAsync{T}"/>.</summary>
    internal Task UpdateIndexAsync(Action<IndexDocument> change, CancellationToken cancellationToken, TimeSpan? lockTimeout = null) =>
        UpdateIndexAsync(
            index =>
            {
                change(index);
                return true;
            },
            cancellationToken,
            lockTimeout);

    /// <summary>
    /// Deletes <c>backups.json.*.tmp</c> files: only the lock's holder writes one, so any found by the holder were left by
    /// a writer killed between writing its temp file and renaming it (the index itself is then unchanged).
    /// </summary>
    private void RemoveStaleIndexTemps()
    {
        foreach (var temp in Directory.EnumerateFiles(Root, IndexFileName + ".*.tmp"))
        {
            TryDelete(temp);
            Logger?.LogWarning("Removed {Path}, left by an index update that was killed before it finished", temp);
        }
    }

    private void WriteIndex(IndexDocument index)
    {
        var temp = $"{IndexPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, index, Json.Options);
                stream.Flush(flushToDisk: true);
            }

            PausePoints.Reach("index.written");
            File.Move(temp, IndexPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new TenantBackupException(
                ErrorCode.IOError, $"Cannot write the index '{IndexPath}': {e.Message}. The previous index is unchanged.", IndexPath, e);
        }
    }

    private IndexDocument Parse(string text)
    {
        IndexDocument? index;
        try
        {
            index = JsonSerializer.Deserialize<IndexDocument>(text, Json.Options);
        }
        catch (JsonException e)
        {
            throw Corrupt($"it is not valid JSON ({e.Message})", e);
        }

        if (index is null)
        {
            throw Corrupt("it is empty", null);
        }

        if (index.SchemaVersion > IndexDocument.CurrentSchemaVersion)
        {
            var newer = new TenantBackupException(
                ErrorCode.IndexCorrupt,
                $"The index '{IndexPath}' has schema version {index.SchemaVersion}, written by a newer TenantBackup. " +
                "Upgrade TenantBackup to use this repository.",
                IndexPath);
            newer.Data[NewerSchemaKey] = true;
            throw newer;
        }

        if (IndexChecks.FirstProblem(index, Root) is { } problem)
        {
            throw Corrupt(problem, null);
        }

        return index;
    }

    private TenantBackupException Corrupt(string what, Exception? inner) => new(
        ErrorCode.IndexCorrupt,
        $"The index '{IndexPath}' cannot be used: {what}. It was left as it is; run Sync-BackupIndex -Apply " +
        "(tenantbackup sync --apply) to set it aside and rebuild it from the archives, or restore it from a copy.",
        IndexPath,
        inner);

    /// <summary>True for the refusal of an index written by a newer version, which is sound and must never be rebuilt.</summary>
    internal static bool IsNewerSchema(TenantBackupException error) => error.Data.Contains(NewerSchemaKey);

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the caller is already reporting the error that matters.
        }
    }
}
