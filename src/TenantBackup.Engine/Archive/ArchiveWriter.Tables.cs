using System.Text;

namespace TenantBackup.Engine.Archive;

// Table data: COPY text in, chunk entries of whole rows out.
internal sealed partial class ArchiveWriter
{
    // Longest sanitized schema and table names in chunk names: keeps every data entry name within 100 characters.
    private const int MaxSchemaNameLength = 30;
    private const int MaxTableNameLength = 48;

    /// <summary>
    /// Writes a table's rows from a PostgreSQL COPY text stream (as <c>BeginTextExport</c> returns it), read to its
    /// end, as chunk entries <c>data/NNNN-schema.table.KKKK.copy</c> of whole rows. A table without rows still
    /// gets one, empty, chunk.
    /// </summary>
    /// <param name="tableOrdinal">The table's position in the backup order: NNNN, and what keeps names unique.</param>
    /// <param name="schema">The table's schema.</param>
    /// <param name="table">The table's name.</param>
    /// <param name="copyText">The COPY text.</param>
    /// <param name="onProgress">Called after each block with the table's rows and bytes so far.</param>
    /// <param name="cancellationToken">Cancels the copy; the archive is then unusable.</param>
    public Task<TableData> WriteTableDataAsync(
        int tableOrdinal,
        string schema,
        string table,
        TextReader copyText,
        Action<long, long>? onProgress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(copyText);
        string qualified = $"{schema}.{table}";
        char[] block = _block ??= new char[CopyChunkBuffer.BlockChars];
        return WriteTableDataAsync(tableOrdinal, schema, table, ReadTextAsync, onProgress, cancellationToken);

        async ValueTask<(int Read, int Rows)> ReadTextAsync(CopyChunkBuffer chunks, CancellationToken token)
        {
            int read = await copyText.ReadBlockAsync(block.AsMemory(0, chunks.NextBlockChars), token).ConfigureAwait(false);
            return (read, AppendBlock(chunks, block.AsSpan(0, read), read == 0, qualified));
        }
    }

    /// <summary>
    /// Writes a table's rows from the raw bytes of a PostgreSQL COPY text stream whose client encoding is UTF-8: the
    /// same as the <see cref="TextReader"/> overload, but the bytes go into the chunks as they come, never decoded.
    /// </summary>
    /// <param name="tableOrdinal">The table's position in the backup order: NNNN, and what keeps names unique.</param>
    /// <param name="schema">The table's schema.</param>
    /// <param name="table">The table's name.</param>
    /// <param name="copyUtf8">The COPY text as UTF-8 bytes.</param>
    /// <param name="onProgress">Called after each block with the table's rows and bytes so far.</param>
    /// <param name="cancellationToken">Cancels the copy; the archive is then unusable.</param>
    public Task<TableData> WriteTableDataAsync(
        int tableOrdinal, string schema, string table, Stream copyUtf8, Action<long, long>? onProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(copyUtf8);
        return WriteTableDataAsync(tableOrdinal, schema, table, ReadBytesAsync, onProgress, cancellationToken);

        async ValueTask<(int Read, int Rows)> ReadBytesAsync(CopyChunkBuffer chunks, CancellationToken token)
        {
            int read = await copyUtf8.ReadAsync(chunks.NextByteBlock(), token).ConfigureAwait(false);
            return (read, chunks.Appended(read));
        }
    }

    private Task<TableData> WriteTableDataAsync(
        int tableOrdinal,
        string schema,
        string table,
        Func<CopyChunkBuffer, CancellationToken, ValueTask<(int Read, int Rows)>> readBlock,
        Action<long, long>? onProgress,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tableOrdinal);
        ArgumentException.ThrowIfNullOrEmpty(schema);
        ArgumentException.ThrowIfNullOrEmpty(table);
        string schemaPart = SanitizeName(schema, MaxSchemaNameLength);
        string tablePart = SanitizeName(table, MaxTableNameLength);
        string prefix = FormattableString.Invariant($"{ArchiveLayout.DataPrefix}{tableOrdinal:D4}-{schemaPart}.{tablePart}.");
        CheckNewEntry(prefix + "0001.copy");
        return RunAsync(() => CopyTableAsync(prefix, schema, table, readBlock, onProgress, cancellationToken));
    }

    /// <summary>
    /// A schema or table name reduced to <c>[A-Za-z0-9_-]</c> (others become <c>_</c>) and to
    /// <paramref name="maxLength"/>.
    /// </summary>
    internal static string SanitizeName(string name, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(name.Length, maxLength));
        foreach (Rune rune in name.EnumerateRunes())
        {
            if (builder.Length == maxLength)
            {
                break;
            }

            bool portable = rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '_' or '-');
            builder.Append(portable ? (char)rune.Value : '_');
        }

        return builder.ToString();
    }

    private async Task<TableData> CopyTableAsync(
        string prefix,
        string schema,
        string table,
        Func<CopyChunkBuffer, CancellationToken, ValueTask<(int Read, int Rows)>> readBlock,
        Action<long, long>? onProgress,
        CancellationToken cancellationToken)
    {
        CopyChunkBuffer chunks = _chunks ??= new CopyChunkBuffer(_chunkSize);
        chunks.Reset();
        string qualified = $"{schema}.{table}";
        var names = new List<string>();
        long rows = 0;
        long bytes = 0;
        bool end;
        do
        {
            (int read, int blockRows) = await readBlock(chunks, cancellationToken).ConfigureAwait(false);
            end = read == 0;
            rows += blockRows;
            while (chunks.TryTakeChunk(end, out ReadOnlyMemory<byte> chunk, out long chunkRows))
            {
                string name = ChunkName(prefix, names.Count + 1);
                await WriteEntryAsync(name, chunk, qualified, chunkRows, cancellationToken).ConfigureAwait(false);
                chunks.Consume();
                names.Add(name);
                bytes += chunk.Length;
            }

            onProgress?.Invoke(rows, bytes);
        }
        while (!end);

        if (names.Count == 0)
        {
            string name = ChunkName(prefix, 1);
            await WriteEntryAsync(name, ReadOnlyMemory<byte>.Empty, qualified, 0, cancellationToken).ConfigureAwait(false);
            names.Add(name);
        }

        _tables++;
        return new TableData(schema, table, rows, bytes, names);
    }

    private static int AppendBlock(CopyChunkBuffer chunks, ReadOnlySpan<char> block, bool end, string table)
    {
        try
        {
            return chunks.Append(block, end);
        }
        catch (EncoderFallbackException ex)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, $"The COPY text of {table} is not valid Unicode (an unpaired surrogate).", table, ex);
        }
    }

    private static string ChunkName(string prefix, int number) => FormattableString.Invariant($"{prefix}{number:D4}.copy");
}
