using Npgsql;

namespace TenantBackup.Engine.Internal;

/// <summary>
/// Small helpers over Npgsql for the engine's catalog and control queries. Statements run without Npgsql's client-side
/// command timeout (30 s by default): a catalog query on a big schema or a wait for a lock may take longer, and what
/// bounds them is the caller's cancellation token and the server's own <c>lock_timeout</c> / <c>statement_timeout</c>.
/// </summary>
internal static class Db
{
    /// <summary>No client-side timeout.</summary>
    public const int NoTimeout = 0;

    /// <summary>Runs <paramref name="sql"/> with positional parameters and maps every row.</summary>
    public static async Task<List<T>> QueryAsync<T>(
        NpgsqlConnection connection,
        string sql,
        Func<NpgsqlDataReader, T> map,
        CancellationToken cancellationToken,
        params NpgsqlParameter[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = NoTimeout };
        command.Parameters.AddRange(parameters);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(map(reader));
            }

            return rows;
        }
    }

    /// <summary>Runs a statement that returns no rows (or whose rows do not matter); returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = NoTimeout };
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a query and returns its first column of the first row.</summary>
    public static async Task<T> ScalarAsync<T>(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        var rows = await QueryAsync(connection, sql, r => r.GetFieldValue<T>(0), cancellationToken, parameters).ConfigureAwait(false);
        return rows[0];
    }

    /// <summary>
    /// Evaluates <paramref name="expression"/> (a cast of a setting to a column's type) under a savepoint and returns the
    /// server's data exception (SQLSTATE class 22: the value does not fit the type), or null when it fits. The savepoint
    /// keeps the failed cast from aborting the transaction before the caller has turned it into its own error, which it
    /// must then throw: the transaction stays failed.
    /// </summary>
    public static async Task<PostgresException?> CastFailureAsync(
        NpgsqlConnection connection, string expression, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(connection, "SAVEPOINT tenantbackup_cast", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"SELECT {expression}", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "RELEASE SAVEPOINT tenantbackup_cast", cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            return e;
        }
    }

    /// <summary>A typed positional parameter.</summary>
    public static NpgsqlParameter<T> Param<T>(T value) => new() { TypedValue = value };

    /// <summary>An <c>oid[]</c> parameter.</summary>
    public static NpgsqlParameter OidArray(uint[] oids) =>
        new NpgsqlParameter<uint[]> { TypedValue = oids, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid };
}
