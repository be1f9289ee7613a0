using Npgsql;

namespace TenantBackup.Engine.Internal;

/// <summary>One data source per target database, opened with errors the operator can act on.</summary>
internal static class Connections
{
    /// <summary>The name the tool's sessions carry in <c>pg_stat_activity</c>, unless the connection string sets one.</summary>
    public const string ApplicationName = "tenantbackup";

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            // The message names the bad keyword, not its value, so no password leaks through it.
            throw new TenantBackupException(
                ErrorCode.InvalidArgument, $"The connection string is not valid: {e.Message}", "ConnectionString", e);
        }

        // Npgsql accepts any positive number here and fails only when connecting, with an exception that says little.
        if (builder.Port is < 1 or > 65535)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                $"Port {builder.Port} in the connection string is not a TCP port; give a number from 1 to 65535.",
                "Port");
        }

        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = ApplicationName;
        }

        return NpgsqlDataSource.Create(builder);
    }

    /// <summary><c>host:port/database</c> for messages; never the password.</summary>
    public static string Describe(NpgsqlDataSource dataSource)
    {
        var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var host = string.IsNullOrEmpty(builder.Host) ? Environment.GetEnvironmentVariable("PGHOST") ?? "localhost" : builder.Host;
        // libpq's defaults: the database is named after the user, the user after the OS account.
        var user = builder.Username ?? Environment.GetEnvironmentVariable("PGUSER") ?? Environment.UserName;
        var database = string.IsNullOrEmpty(builder.Database) ? Environment.GetEnvironmentVariable("PGDATABASE") ?? user : builder.Database;
        return $"PostgreSQL {host}:{builder.Port}/{database}";
    }

    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = dataSource.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (NpgsqlException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw PostgresErrors.Map(e, Describe(dataSource));
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
