using Npgsql;

namespace TenantBackup.Engine.Internal;

/// <summary>Turns Npgsql's exceptions into engine errors that say what happened and what to do, never with a password.</summary>
internal static class PostgresErrors
{
    public static TenantBackupException Map(NpgsqlException exception, string target)
    {
        if (exception is PostgresException pg)
        {
            if (pg.SqlState.StartsWith("28", StringComparison.Ordinal))
            {
                return new TenantBackupException(
                    ErrorCode.AuthenticationFailed,
                    $"{target} refused the login: {pg.MessageText}. " +
                    "Check the user name and password (connection string, PGUSER/PGPASSWORD or ~/.pgpass).",
                    target,
                    exception);
            }

            switch (pg.SqlState)
            {
                case PostgresErrorCodes.InsufficientPrivilege
                    when pg.MessageText.Contains("row-level security", StringComparison.OrdinalIgnoreCase):
                    return new TenantBackupException(
                        ErrorCode.RowLevelSecurity,
                        $"Row-level security would hide rows from this backup ({pg.MessageText}), " +
                        "so it would be incomplete; nothing was written. " +
                        "Run the backup as the tables' owner or a role with BYPASSRLS.",
                        pg.TableName ?? target,
                        exception);
                case PostgresErrorCodes.InsufficientPrivilege:
                    return new TenantBackupException(
                        ErrorCode.PermissionDenied,
                        $"{target}: {pg.MessageText}. Grant the role the privilege, or use a role that has it.",
                        pg.TableName ?? target,
                        exception);
                case PostgresErrorCodes.LockNotAvailable:
                    return new TenantBackupException(
                        ErrorCode.TenantLocked,
                        $"{target}: {pg.MessageText}: another session (a migration?) holds a lock on a table of the tenant's scope. " +
                        "Nothing was kept; try again when it has finished, or wait longer with -LockTimeout / --lock-timeout.",
                        pg.TableName ?? target,
                        exception);
                case PostgresErrorCodes.InvalidCatalogName:
                    return new TenantBackupException(
                        ErrorCode.DatabaseNotFound, $"{target}: {pg.MessageText}. Check the database name.", target, exception);
                case PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow:
                    return new TenantBackupException(
                        ErrorCode.ConnectionFailed,
                        $"{target}: the server ended the connection ({pg.MessageText}). Nothing was kept; run it again.",
                        target,
                        exception);
                default:
                    return new TenantBackupException(
                        ErrorCode.DatabaseError, $"{target}: {pg.MessageText} (SQLSTATE {pg.SqlState}).", target, exception);
            }
        }

        if (exception.InnerException is TimeoutException)
        {
            return new TenantBackupException(
                ErrorCode.ConnectionFailed,
                $"{target} did not answer within the connection's timeout ({exception.InnerException.Message}). " +
                "Check the server's load and the Timeout / Command Timeout settings of the connection string; nothing was kept.",
                target,
                exception);
        }

        return new TenantBackupException(
            ErrorCode.ConnectionFailed,
            $"Lost or could not open the connection to {target}: {exception.Message}. " +
            "Check that the server is up and reachable; nothing was kept.",
            target,
            exception);
    }
}
