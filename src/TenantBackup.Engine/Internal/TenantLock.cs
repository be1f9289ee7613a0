using Microsoft.Extensions.Logging;
using Npgsql;

namespace TenantBackup.Engine.Internal;

/// <summary>
/// The tenant's advisory lock: backups share it, restores take it alone, so no backup reads a half-restored tenant.
/// The key is (hashtext('tenantbackup'), hashtext(column:value)); a hash collision only makes two tenants wait for each other.
/// </summary>
internal static class TenantLock
{
    private const string KeyArgs = "pg_catalog.hashtext('tenantbackup'), pg_catalog.hashtext($1 || ':' || $2)";

    /// <summary>
    /// Takes the shared, session-level lock, waiting up to <paramref name="timeout"/>; the caller releases it or closes the session.
    /// </summary>
    public static Task AcquireSharedAsync(
        NpgsqlConnection connection, string column, string tenant, TimeSpan timeout, CancellationToken cancellationToken) =>
        AcquireAsync(connection, $"SELECT pg_catalog.pg_advisory_lock_shared({KeyArgs})", column, tenant, timeout, cancellationToken);

    /// <summary>Releases the shared lock taken by <see cref="AcquireSharedAsync"/>.</summary>
    public static Task ReleaseSharedAsync(NpgsqlConnection connection, string column, string tenant, CancellationToken cancellationToken) =>
        Db.ExecuteAsync(
            connection, $"SELECT pg_catalog.pg_advisory_unlock_shared({KeyArgs})", cancellationToken, Db.Param(column), Db.Param(tenant));

    /// <summary>Takes the exclusive, session-level lock (a restore), waiting up to <paramref name="timeout"/>.</summary>
    public static Task AcquireExclusiveAsync(
        NpgsqlConnection connection, string column, string tenant, TimeSpan timeout, CancellationToken cancellationToken) =>
        AcquireAsync(connection, $"SELECT pg_catalog.pg_advisory_lock({KeyArgs})", column, tenant, timeout, cancellationToken);

    /// <summary>Releases the exclusive lock taken by <see cref="AcquireExclusiveAsync"/>.</summary>
    public static Task ReleaseExclusiveAsync(
        NpgsqlConnection connection, string column, string tenant, CancellationToken cancellationToken) =>
        Db.ExecuteAsync(
            connection, $"SELECT pg_catalog.pg_advisory_unlock({KeyArgs})", cancellationToken, Db.Param(column), Db.Param(tenant));

    /// <summary>
    /// Releases the lock at the end of an operation, whatever ended it, never with the operation's token. A broken
    /// connection cannot release it; the server ends that session and the lock with it, so that is only logged (Debug)
    /// and the operation's own outcome or error is the one reported.
    /// </summary>
    public static async Task ReleaseAtEndAsync(
        NpgsqlConnection connection, string column, string tenant, bool exclusive, ILogger logger)
    {
        try
        {
            await (exclusive
                    ? ReleaseExclusiveAsync(connection, column, tenant, CancellationToken.None)
                    : ReleaseSharedAsync(connection, column, tenant, CancellationToken.None))
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            logger.LogDebug("Could not release the tenant lock explicitly: {Message}", e.Message);
        }
    }

    private static async Task AcquireAsync(
        NpgsqlConnection connection, string sql, string column, string tenant, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var milliseconds = Math.Max(1, (long)timeout.TotalMilliseconds);
        await Db.ExecuteAsync(
                connection, "SELECT pg_catalog.set_config('lock_timeout', $1, false)", cancellationToken, Db.Param($"{milliseconds}ms"))
            .ConfigureAwait(false);
        try
        {
            await Db.ExecuteAsync(connection, sql, cancellationToken, Db.Param(column), Db.Param(tenant)).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            var holders = await HoldersAsync(connection, column, tenant, cancellationToken).ConfigureAwait(false);
            throw new TenantBackupException(
                ErrorCode.TenantLocked,
                $"Tenant {column} = {tenant} is locked by another TenantBackup operation{holders}; waited {timeout.TotalSeconds:0.#} s. " +
                "Try again when it has finished, or wait longer with -LockTimeout / --lock-timeout.",
                tenant,
                e);
        }

        await Db.ExecuteAsync(connection, "SELECT pg_catalog.set_config('lock_timeout', '0', false)", cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task<string> HoldersAsync(
        NpgsqlConnection connection, string column, string tenant, CancellationToken cancellationToken)
    {
        // pg_locks shows a two-key advisory lock as classid = key1, objid = key2, objsubid = 2.
        const string sql = """
            SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(a.client_addr::text, 'local')
            FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid = pg_catalog.hashtext('tenantbackup')::oid AND l.objid = pg_catalog.hashtext($1 || ':' || $2)::oid
            """;
        try
        {
            var rows = await Db.QueryAsync(
                connection,
                sql,
                r => $"pid {r.GetInt32(0)} ({r.GetString(1)}, user {r.GetString(2)}, {r.GetString(3)})",
                cancellationToken,
                Db.Param(column),
                Db.Param(tenant))
                .ConfigureAwait(false);
            return rows.Count == 0 ? "" : " (held by " + string.Join(", ", rows) + ")";
        }
        catch (PostgresException)
        {
            return "";
        }
    }
}
