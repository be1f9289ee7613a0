using Microsoft.Extensions.Logging;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Backup;

/// <summary>
/// The files one backup produces in the repository: <c>name.partial</c> while writing, <c>name</c> and
/// <c>name.sha256</c> once whole. <see cref="Discard"/> removes whatever of them exists, so a failed backup leaves nothing.
/// </summary>
internal sealed class ArchiveExport
{
    private const int ProgressIntervalMilliseconds = 250;
    private readonly BackupRepository _repository;
    private readonly string _fileName;
    private readonly ILogger _logger;
    private bool _created;
    private bool _sidecarWritten;
    private bool _published;

    public ArchiveExport(BackupRepository repository, string fileName, ILogger logger)
    {
        _repository = repository;
        _fileName = fileName;
        _logger = logger;
    }

    private string FinalPath => Path.Combine(_repository.Root, _fileName);

    private string PartialPath => FinalPath + ".partial";

    private string SidecarPath => Sha256File.PathFor(FinalPath);

    internal sealed record Written(ArchiveSummary Summary, IReadOnlyList<TableData> Tables);

    public async Task<Written> WriteAsync(
        TenantSnapshot snapshot,
        TenantScope scope,
        BackupMetadata metadata,
        BackupRequest request,
        Compression compression,
        IProgress<ProgressEvent>? progress,
        CancellationToken cancellationToken)
    {
        try
        {
            return await WriteArchiveAsync(snapshot, scope, metadata, request, compression, progress, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or TenantBackupException { Code: ErrorCode.IOError } || IsFileTooLarge(e))
        {
            throw WriteFailed(PartialPath, e);
        }
    }

    /// <summary>
    /// EFBIG (past <c>ulimit -f</c>): .NET reports a write that fails with it not as an IOException but as an
    /// ArgumentOutOfRangeException thrown by RandomAccess, the layer under every FileStream.
    /// </summary>
    private static bool IsFileTooLarge(Exception e) =>
        e is ArgumentOutOfRangeException && e.TargetSite?.DeclaringType == typeof(RandomAccess);

    private static TenantBackupException WriteFailed(string path, Exception e)
    {
        // ENOSPC and EFBIG (a file size limit) on Unix, ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL on Windows: the fix is
        // the same for all of them, and the operator should not have to recognise an errno in the message to find it.
        var io = e as IOException ?? e.InnerException as IOException;
        var full = IsFileTooLarge(e) || io?.HResult is 28 or 27 or unchecked((int)0x80070070) or unchecked((int)0x80070027);
        var what = full
            ? $"the disk is full or the file is larger than this process may write ({e.Message.TrimEnd('.')})"
            : e.Message.TrimEnd('.');
        return new TenantBackupException(
            ErrorCode.IOError,
            $"Writing the archive '{path}' failed: {what}. Nothing was kept; free space in the repository " +
            "(or choose another) and run the backup again.",
            path,
            e);
    }

    private async Task<Written> WriteArchiveAsync(
        TenantSnapshot snapshot,
        TenantScope scope,
        BackupMetadata metadata,
        BackupRequest request,
        Compression compression,
        IProgress<ProgressEvent>? progress,
        CancellationToken cancellationToken)
    {
        var file = OpenPartial();
        await using (file.ConfigureAwait(false))
        {
            var writer = ArchiveWriter.Create(
                file, compression, request.CompressionLevel, metadata.CreatedAt, encryption: request.Encryption);
            await using (writer.ConfigureAwait(false))
            {
                var files = request.IncludePaths.Select((path, i) => new BackupMetadata.FileRoot
                {
                    Source = Path.GetFullPath(path),
                    Entry = $"{ArchiveLayout.FilesPrefix}{i + 1:D2}/",
                }).ToList();
                metadata.Files = files;
                await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, metadata, cancellationToken).ConfigureAwait(false);
                await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, SchemaDocument.From(scope), cancellationToken)
                    .ConfigureAwait(false);

                PausePoints.Reach("backup.header");
                var tables = await ExportTablesAsync(snapshot, scope, writer, progress, cancellationToken).ConfigureAwait(false);
                foreach (var root in files)
                {
                    progress?.Report(new ProgressEvent(
                        "files", root.Source, tables.Count, tables.Count, tables.Sum(t => t.Rows), tables.Sum(t => t.Bytes)));
                    PausePoints.Reach("backup.files");
                    await writer.WriteFilesAsync(root.Source, root.Entry, cancellationToken).ConfigureAwait(false);
                }

                PausePoints.Reach("backup.manifest");

                var summary = await writer.CompleteAsync(metadata.Id, cancellationToken).ConfigureAwait(false);
                return new Written(summary, tables);
            }
        }
    }

    private static async Task<List<TableData>> ExportTablesAsync(
        TenantSnapshot snapshot,
        TenantScope scope,
        ArchiveWriter writer,
        IProgress<ProgressEvent>? progress,
        CancellationToken cancellationToken)
    {
        var done = new List<TableData>();
        long rowsBefore = 0, bytesBefore = 0;
        var lastReport = Environment.TickCount64;
        for (var i = 0; i < scope.Tables.Count; i++)
        {
            var table = scope.Tables[i];
            var name = table.Table.QualifiedName;
            progress?.Report(new ProgressEvent("export", name, i, scope.Tables.Count, rowsBefore, bytesBefore));
            var tableIndex = i;
            void OnBlock(long rows, long bytes)
            {
                if (progress is not null && Environment.TickCount64 - lastReport >= ProgressIntervalMilliseconds)
                {
                    lastReport = Environment.TickCount64;
                    progress.Report(new ProgressEvent(
                        "export", name, tableIndex, scope.Tables.Count, rowsBefore + rows, bytesBefore + bytes));
                }
            }

            PausePoints.Reach("backup.table");
            var copy = await snapshot.CopyOutAsync(table, cancellationToken).ConfigureAwait(false);
            using (copy)
            {
                // The reader's own stream carries the server's bytes: reading it spares a decode and an encode of every byte.
                var data = snapshot.CopyIsUtf8
                    ? await writer.WriteTableDataAsync(
                            i + 1, table.Table.Schema, table.Table.Name, copy.BaseStream, OnBlock, cancellationToken)
                        .ConfigureAwait(false)
                    : await writer.WriteTableDataAsync(i + 1, table.Table.Schema, table.Table.Name, copy, OnBlock, cancellationToken)
                        .ConfigureAwait(false);
                done.Add(data);
                rowsBefore += data.Rows;
                bytesBefore += data.Bytes;
            }
        }

        progress?.Report(new ProgressEvent("export", null, scope.Tables.Count, scope.Tables.Count, rowsBefore, bytesBefore));
        return done;
    }

    /// <summary>Writes the archive's <c>.sha256</c> and renames the finished archive into place; returns the index entry to add.</summary>
    public async Task<IndexEntry> PublishAsync(
        Written written, BackupMetadata metadata, TenantScope scope, CancellationToken cancellationToken)
    {
        PausePoints.Reach("backup.written");
        if (File.Exists(FinalPath) || File.Exists(SidecarPath))
        {
            throw new IOException($"'{FinalPath}' or its .sha256 exists already");
        }

        // The .sha256 before the rename: a process killed in between leaves it beside the .partial, and the next backup
        // removes both; killed after the rename, it leaves a whole archive with its .sha256, which sync adopts.
        try
        {
            await Sha256File.WriteAsync(FinalPath, written.Summary.Sha256, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException || IsFileTooLarge(e))
        {
            throw WriteFailed(SidecarPath, e);
        }

        _sidecarWritten = true;
        File.Move(PartialPath, FinalPath); // never overwrites: a name taken already fails here, and is not ours to discard
        _published = true;
        PausePoints.Reach("backup.renamed");
        var entry = IndexEntry.Describe(
            metadata,
            _fileName,
            written.Summary.CompressedSize,
            written.Summary.Sha256,
            scope.Tables.Count,
            written.Tables.Sum(t => t.Rows));
        entry.SetEncryption(written.Summary.KeyId);
        return entry;
    }

    /// <summary>Removes every file this backup wrote; called when it failed or was cancelled.</summary>
    public void Discard()
    {
        // Only files this backup created: a name that was taken already belongs to someone else.
        var ours = _published ? new[] { PartialPath, FinalPath, SidecarPath }
            : _sidecarWritten ? [PartialPath, SidecarPath]
            : _created ? [PartialPath, SidecarPath + ".tmp"] // the temp file of a .sha256 that could not be written
            : [];
        foreach (var path in ours)
        {
            if (File.Exists(path))
            {
                BackupRepository.TryDelete(path);
                _logger.LogDebug("Removed {Path} of the failed backup", path);
            }
        }
    }

    private FileStream OpenPartial()
    {
        try
        {
            // FileOptions.None: the archive is written sequentially in large blocks; Flush(true) at the end makes it durable.
            var file = new FileStream(PartialPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
            _created = true;
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TenantBackupException(ErrorCode.IOError, $"Cannot create '{PartialPath}': {e.Message}", PartialPath, e);
        }
    }
}
