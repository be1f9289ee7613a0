using System.Reflection;
using Npgsql;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;
using TenantBackup.Engine.Repository;

namespace TenantBackup.Engine.Backup;

/// <summary>
/// The backup's one <c>REPEATABLE READ, READ ONLY</c> transaction: catalog, scope and every table's rows come from
/// the same snapshot. Row security is off, so a role that policies would filter fails instead of backing up part of
/// a tenant; the tenant value lives in a transaction-local setting and is never spliced into SQL.
/// </summary>
internal sealed class TenantSnapshot : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly BackupRequest _request;

    private TenantSnapshot(NpgsqlConnection connection, NpgsqlTransaction transaction, BackupRequest request)
    {
        _connection = connection;
        _transaction = transaction;
        _request = request;
    }

    public static async Task<TenantSnapshot> BeginAsync(
        NpgsqlConnection connection, BackupRequest request, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            await Db.ExecuteAsync(connection, "SET TRANSACTION READ ONLY", cancellationToken).ConfigureAwait(false);
            await Db.ExecuteAsync(connection, "SET LOCAL row_security = off", cancellationToken).ConfigureAwait(false);
            // Only pg_catalog on the path: format_type and regclass then name every user type and table with its schema.
            await Db.ExecuteAsync(connection, "SET LOCAL search_path = pg_catalog, pg_temp", cancellationToken).ConfigureAwait(false);
            await Db.ExecuteAsync(
                connection,
                $"SELECT pg_catalog.set_config('{ScopeResolver.TenantSetting}', $1, true)",
                cancellationToken,
                Db.Param(request.Tenant)).ConfigureAwait(false);
            // Reading a table (and even describing it) waits behind a migration's ACCESS EXCLUSIVE lock: not forever.
            await Db.ExecuteAsync(
                connection,
                "SELECT pg_catalog.set_config('lock_timeout', $1, true)",
                cancellationToken,
                Db.Param($"{Math.Max(1, (long)request.LockTimeout.TotalMilliseconds)}ms")).ConfigureAwait(false);
            return new TenantSnapshot(connection, transaction, request);
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public NpgsqlConnection Connection => _connection;

    /// <summary>Reads the catalog, resolves the scope, checks that the tenant value fits its type and that the tenant exists.</summary>
    public async Task<TenantScope> ResolveScopeAsync(CancellationToken cancellationToken)
    {
        var tables = await CatalogReader.ReadTablesAsync(_connection, _request.Schemas, cancellationToken).ConfigureAwait(false);
        if (tables.Count == 0)
        {
            throw new TenantBackupException(
                ErrorCode.ScopeError,
                _request.Schemas.Count == 0
                    ? "The database has no tables in any user schema."
                    : $"No tables in the schema(s) {string.Join(", ", _request.Schemas)}. Check -Schema / --schema.",
                _request.Schemas);
        }

        var scope = ScopeResolver.Resolve(tables, _request.TenantColumn, _request.IncludeTables, _request.ExcludeTables);
        await TenantChecks.EnsureValueFitsAsync(_connection, scope, _request.Tenant, cancellationToken).ConfigureAwait(false);
        await CheckTenantExistsAsync(scope, cancellationToken).ConfigureAwait(false);
        return scope;
    }

    private async Task CheckTenantExistsAsync(TenantScope scope, CancellationToken cancellationToken)
    {
        // Null: only indirect tables were included, whose rows are found through tables the backup does not export.
        if (await TenantChecks.HasRowsAsync(_connection, scope, cancellationToken).ConfigureAwait(false) == false)
        {
            var where = scope.Root is null ? "" : $"{scope.Root.Table.QualifiedName} has no row for it and ";
            throw new TenantBackupException(
                ErrorCode.TenantNotFound,
                $"Tenant {scope.TenantColumn} = {_request.Tenant} not found: {where}" +
                $"no table has rows with {scope.TenantColumn} = {_request.Tenant}. " +
                "Check the tenant value and -TenantColumn / --tenant-column. Nothing was written.",
                _request.Tenant);
        }
    }

    /// <summary>The archive's <c>tenantbackup.json</c>: who, what, where from, and which snapshot.</summary>
    public async Task<BackupMetadata> MetadataAsync(
        string id, TenantScope scope, Compression compression, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT pg_catalog.current_setting('server_version'),
                   pg_catalog.current_database(),
                   pg_catalog.pg_current_snapshot()::text,
                   (CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
                         ELSE pg_catalog.pg_current_wal_lsn() END)::text,
                   CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
                        THEN (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) END,
                   current_user
            """;
        var rows = await Db.QueryAsync(
            _connection,
            sql,
            r => (Version: r.GetString(0), Database: r.GetString(1), Snapshot: r.GetString(2), Lsn: r.IsDBNull(3) ? null : r.GetString(3),
                SystemId: r.IsDBNull(4) ? null : r.GetString(4), User: r.GetString(5)),
            cancellationToken).ConfigureAwait(false);
        var server = rows[0];
        return new BackupMetadata
        {
            Id = id,
            Kind = _request.Kind,
            ParentId = _request.ParentId,
            Tenant = new BackupMetadata.TenantInfo { Column = scope.TenantColumn, Value = _request.Tenant, Type = scope.TenantType },
            Source = new BackupSource
            {
                Host = _connection.Host,
                Database = server.Database,
                ServerVersion = server.Version,
                SystemIdentifier = server.SystemId,
            },
            Snapshot = new BackupMetadata.SnapshotInfo { Snapshot = server.Snapshot, Lsn = server.Lsn },
            CreatedAt = createdAt,
            CreatedBy = $"{Environment.UserName}@{Environment.MachineName} (role {server.User})",
            ToolVersion = ToolVersion,
            Compression = CompressionStreams.Name(compression),
            Message = _request.Message,
        };
    }

    /// <summary>
    /// True when the session's client encoding is UTF-8 (Npgsql's default), so COPY text can go into the archive as the
    /// server sends it instead of being decoded to .NET strings and encoded back.
    /// </summary>
    public bool CopyIsUtf8 =>
        string.Equals(_connection.PostgresParameters.GetValueOrDefault("client_encoding"), "UTF8", StringComparison.OrdinalIgnoreCase);

    /// <summary>Starts <c>COPY (SELECT ...) TO STDOUT</c> of the table's tenant rows in text format.</summary>
    public async Task<NpgsqlCopyTextReader> CopyOutAsync(ScopedTable table, CancellationToken cancellationToken)
    {
        var reader = await _connection.BeginTextExportAsync($"COPY ({table.SelectSql}) TO STDOUT", cancellationToken).ConfigureAwait(false);
        reader.Timeout = Db.NoTimeout; // a big table's first rows may take a while; cancellation bounds the wait
        return reader;
    }

    /// <summary>Ends the read-only transaction.</summary>
    public Task EndAsync(CancellationToken cancellationToken) => _transaction.CommitAsync(cancellationToken);

    public ValueTask DisposeAsync() => _transaction.DisposeAsync();

    internal static string ToolVersion { get; } =
        typeof(TenantSnapshot).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";
}
