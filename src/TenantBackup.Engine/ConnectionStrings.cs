using Npgsql;

namespace TenantBackup.Engine;

/// <summary>
/// Builds and redacts Npgsql connection strings for the front ends, which must not reference Npgsql themselves.
/// </summary>
/// <remarks>
/// Npgsql itself reads <c>PGUSER</c>, <c>PGPASSWORD</c>, <c>PGPASSFILE</c> (and <c>~/.pgpass</c>) and the <c>PGSSL*</c>
/// file variables when a connection string leaves them out, but not <c>PGHOST</c>, <c>PGPORT</c>, <c>PGDATABASE</c> or
/// <c>PGSSLMODE</c>, and it refuses a connection string without a host.
/// <see cref="Build(string?, string?, int?, string?, string?, string?)"/> fills exactly those gaps the way libpq would, and
/// leaves the password out, so Npgsql still finds it in <c>PGPASSWORD</c> or the password file.
/// </remarks>
public static class ConnectionStrings
{
    private const string PasswordKey = "Password";

    /// <summary>
    /// Combines a connection string with separately given parts (which win), then fills the host, port, database and
    /// SSL mode from <c>PGHOST</c>, <c>PGPORT</c>, <c>PGDATABASE</c> and <c>PGSSLMODE</c> where still missing.
    /// </summary>
    /// <param name="connectionString">An Npgsql connection string, or null.</param>
    /// <param name="server">Host name, IP address or Unix socket folder.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="database">Database name.</param>
    /// <param name="userName">Role to log in as.</param>
    /// <param name="password">Password of <paramref name="userName"/>.</param>
    /// <returns>The connection string to hand to the engine. It holds a password only when one was given.</returns>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.InvalidArgument"/> when the connection string cannot be parsed.
    /// </exception>
    public static string Build(string? connectionString, string? server, int? port, string? database, string? userName, string? password)
        => Build(connectionString, server, port, database, userName, password, Environment.GetEnvironmentVariable, File.Exists);

    /// <summary>The same as the public overload, with the environment and the file system passed in (for tests).</summary>
    internal static string Build(
        string? connectionString,
        string? server,
        int? port,
        string? database,
        string? userName,
        string? password,
        Func<string, string?> getEnvironmentVariable,
        Func<string, bool> fileExists)
    {
        var builder = Parse(connectionString);

        if (!string.IsNullOrEmpty(server))
        {
            builder.Host = server;
        }

        if (port is { } p)
        {
            if (p is < 1 or > 65535)
            {
                throw new TenantBackupException(
                    ErrorCode.InvalidArgument, $"Port {p} is not a TCP port; give a number from 1 to 65535.", p);
            }

            builder.Port = p;
        }

        if (!string.IsNullOrEmpty(database))
        {
            builder.Database = database;
        }

        if (!string.IsNullOrEmpty(userName))
        {
            builder.Username = userName;
        }

        if (!string.IsNullOrEmpty(password))
        {
            builder.Password = password;
        }

        if (!IsSet(builder, "Port") && getEnvironmentVariable("PGPORT") is { Length: > 0 } envPort)
        {
            if (!int.TryParse(
                    envPort, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                || parsed is < 1 or > 65535)
            {
                throw new TenantBackupException(ErrorCode.InvalidArgument, $"PGPORT is '{envPort}', which is not a TCP port.", "PGPORT");
            }

            builder.Port = parsed;
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            builder.Host = getEnvironmentVariable("PGHOST") is { Length: > 0 } envHost
                ? envHost
                : DefaultHost(builder.Port, fileExists);
        }

        if (string.IsNullOrEmpty(builder.Database) && getEnvironmentVariable("PGDATABASE") is { Length: > 0 } envDatabase)
        {
            builder.Database = envDatabase;
        }

        if (!IsSet(builder, "SSL Mode") && getEnvironmentVariable("PGSSLMODE") is { Length: > 0 } envSslMode)
        {
            builder.SslMode = ParseSslMode(envSslMode);
        }

        return builder.ConnectionString;
    }

    /// <summary>The connection string without its password, for messages and logs.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <returns>The same settings minus the password; a fixed placeholder when the string cannot be parsed.</returns>
    public static string Redact(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // An unparseable string may hold the password anywhere; show none of it.
            return "(connection string not shown: it cannot be parsed)";
        }

        builder.Remove(PasswordKey);
        return builder.ConnectionString;
    }

    /// <summary>Names the server and database a connection string points at, for confirmation prompts and summaries.</summary>
    /// <param name="connectionString">
    /// An Npgsql connection string, usually from <see cref="Build(string?, string?, int?, string?, string?, string?)"/>.
    /// </param>
    /// <returns>Text like <c>database 'app' on db1:5432</c>; never the password.</returns>
    public static string Describe(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return "(connection string not shown: it cannot be parsed)";
        }

        var database = string.IsNullOrEmpty(builder.Database) ? "(the user's default database)" : $"database '{builder.Database}'";
        var host = string.IsNullOrEmpty(builder.Host) ? "(default host)" : builder.Host;
        return $"{database} on {host}:{builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    private static NpgsqlConnectionStringBuilder Parse(string? connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString ?? string.Empty);
        }
        catch (ArgumentException ex)
        {
            // The outer message names the keyword at most ("Couldn't set port"); inner messages can quote values.
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                $"The connection string is not valid ({ex.Message}). Use 'Key=value;' pairs, e.g. 'Host=db1;Database=app;Username=backup'.",
                "ConnectionString");
        }
    }

    // ContainsKey is true for every keyword Npgsql knows; Keys lists only the ones the string sets.
    private static bool IsSet(NpgsqlConnectionStringBuilder builder, string canonicalKey)
        => builder.Keys.Cast<string>().Contains(canonicalKey, StringComparer.OrdinalIgnoreCase);

    // libpq's default: the Unix socket in its usual folders when a server listens there, else localhost.
    private static string DefaultHost(int port, Func<string, bool> fileExists)
    {
        if (!OperatingSystem.IsWindows())
        {
            var socket = ".s.PGSQL." + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var folder in (string[])["/var/run/postgresql", "/tmp"])
            {
                if (fileExists(Path.Combine(folder, socket)))
                {
                    return folder;
                }
            }
        }

        return "localhost";
    }

    private static SslMode ParseSslMode(string value) => value.ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new TenantBackupException(
            ErrorCode.InvalidArgument,
            $"PGSSLMODE is '{value}'; use disable, allow, prefer, require, verify-ca or verify-full.",
            "PGSSLMODE"),
    };
}
