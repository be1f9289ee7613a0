using System.Globalization;
using System.Text;
using Npgsql;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// Staging: every restored table's rows go from the archive into a temp table typed like the target table, through
// COPY FROM STDIN, before any row of the tenant is touched.
internal sealed partial class RestoreSession
{
    /// <summary>
    /// Reads the archive once more: data entries into the staging tables, <c>files/</c> entries into
    /// <paramref name="files"/> (when files are restored). The bytes must be the ones verified before.
    /// </summary>
    public async Task StageAsync(FilesRestore? files, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        foreach (var table in Tables)
        {
            var columns = string.Join(", ", table.Columns.Select(c => $"{Sql.Ident(c)} {table.Catalog.Column(c).Type}"));
            await ExecuteAsync($"CREATE TEMP TABLE {table.StageName} ({columns}) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
        }

        var byOrdinal = Tables.ToDictionary(t => t.Archive.Ordinal);
        long bytes = 0;
        var staged = new HashSet<int>();
        string sha256;
        var file = new FileStream(
            _source.ArchivePath,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            bufferSize: 0,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            var hashing = new HashingStream(file, leaveOpen: true);
            var reader = ArchiveReader.Open(hashing, _source.ArchivePath, _source.Encryption);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.NextEntryAsync(cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    if (entry.Name.StartsWith(ArchiveLayout.DataPrefix, StringComparison.Ordinal))
                    {
                        if (byOrdinal.TryGetValue(
                                int.Parse(entry.Name.AsSpan(ArchiveLayout.DataPrefix.Length, 4), CultureInfo.InvariantCulture),
                                out var table))
                        {
                            staged.Add(table.Archive.Ordinal); // a big table comes in several chunks
                            progress?.Report(new ProgressEvent("stage", table.Name, staged.Count - 1, Tables.Count, 0, bytes));
                            await CopyInAsync(table, entry, cancellationToken).ConfigureAwait(false);
                            bytes += entry.Size;
                        }
                    }
                    else if (files is not null && entry.Name.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal))
                    {
                        progress?.Report(new ProgressEvent("files", null, 0, Tables.Count, 0, bytes));
                        await files.ExtractAsync(entry, cancellationToken).ConfigureAwait(false);
                    }
                }

                await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                await ArchiveVerifier.DrainAsync(hashing, cancellationToken).ConfigureAwait(false);

                sha256 = hashing.Sha256;
            }

            if (!string.Equals(sha256, _source.Sha256, StringComparison.Ordinal))
            {
                throw new TenantBackupException(
                    ErrorCode.ChecksumMismatch,
                    $"{_source.ArchivePath} changed while it was being restored (SHA-256 {sha256}, verified as {_source.Sha256}); " +
                    "nothing was changed.",
                    _source.ArchivePath);
            }
        }

        foreach (var table in Tables)
        {
            // The verified manifest counts every entry's rows; no need to count them again on the server.
            table.Staged = _source.RowsByOrdinal.GetValueOrDefault(table.Archive.Ordinal);
        }
    }

    private async Task CopyInAsync(RestoreTable table, ArchiveEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            var writer = (NpgsqlCopyTextWriter)await _connection.BeginTextImportAsync(
                    $"COPY {table.StageName} ({table.ColumnList}) FROM STDIN", cancellationToken)
                .ConfigureAwait(false);
            try
            {
                // A big chunk may keep the server busy past Npgsql's 30 s default; cancellation bounds the wait instead.
                writer.Timeout = Db.NoTimeout;

                // The archive holds UTF-8 COPY text; a UTF-8 session takes it as it is, without decoding and re-encoding every row.
                if (IsUtf8Session)
                {
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    await entry.Data.CopyToAsync(writer.BaseStream, 1024 * 1024, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    using var text = new StreamReader(
                        entry.Data, new UTF8Encoding(false, throwOnInvalidBytes: true), false, 1024 * 1024, leaveOpen: true);
                    var chars = new char[256 * 1024];
                    int read;
                    while ((read = await text.ReadAsync(chars, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await writer.WriteAsync(chars.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }

                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                // Ends the COPY without blocking: StreamWriter's own disposal closes the copy stream synchronously, and
                // that blocking read for the server's answer can wait for itself where socket completions run inline.
                await writer.BaseStream.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await AbandonAsync(writer).ConfigureAwait(false);
                throw;
            }
        }
        catch (PostgresException e)
        {
            throw new TenantBackupException(
                ErrorCode.SchemaMismatch,
                $"The backup's rows of {table.Name} do not fit the target's columns: {e.MessageText}{Where(e)}. " +
                "Restore into a database whose schema matches the backup's; nothing was changed.",
                table.Name,
                e);
        }
    }

    /// <summary>Disposing the writer before the COPY ended cancels it; after a failed end it has nothing left to do.</summary>
    private static async Task AbandonAsync(NpgsqlCopyTextWriter writer)
    {
        try
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private bool IsUtf8Session =>
        string.Equals(_connection.PostgresParameters.GetValueOrDefault("client_encoding"), "UTF8", StringComparison.OrdinalIgnoreCase);

    private static string Where(PostgresException e) => string.IsNullOrEmpty(e.Where) ? "" : $" ({e.Where})";
}
