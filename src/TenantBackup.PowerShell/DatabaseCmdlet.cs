using System.Data.Common;
using System.Management.Automation;
using TenantBackup.Engine;

namespace TenantBackup.PowerShell;

/// <summary>
/// Base of the cmdlets that connect to PostgreSQL: <c>-ConnectionString</c>, or <c>-Server</c>/<c>-Port</c>/<c>-Database</c>/
/// <c>-Credential</c>, as two parameter sets, and the one connection string the engine gets from them.
/// </summary>
public abstract class DatabaseCmdlet : TenantBackupCmdlet
{
    /// <summary>Parameter set: connect with an Npgsql connection string (or the <c>PG*</c> variables alone).</summary>
    public const string ConnectionStringSet = "ConnectionString";

    /// <summary>Parameter set: connect with a server name, port, database and credential.</summary>
    public const string ServerSet = "Server";

    /// <summary>
    /// <para type="description">Npgsql connection string. Missing parts come from PGHOST, PGPORT, PGDATABASE, PGUSER,
    /// PGPASSWORD and ~/.pgpass, as with psql.</para>
    /// </summary>
    [Parameter(ParameterSetName = ConnectionStringSet)]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    /// <summary><para type="description">Host name, IP address or Unix socket folder of the PostgreSQL server.</para></summary>
    [Parameter(Mandatory = true, ParameterSetName = ServerSet)]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary><para type="description">TCP port of the server (default 5432, or PGPORT).</para></summary>
    [Parameter(ParameterSetName = ServerSet)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary><para type="description">Database holding the tenants (default PGDATABASE, else the user name).</para></summary>
    [Parameter(ParameterSetName = ServerSet)]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary><para type="description">Role and password to log in with; without it, PGUSER/PGPASSWORD/~/.pgpass apply.</para></summary>
    [Parameter(ParameterSetName = ServerSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>The connection string for the engine, from whichever set was used; it holds a password only when one was given.</summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.InvalidArgument"/> when the connection string cannot be parsed.
    /// </exception>
    protected string BuildConnectionString()
    {
        var credential = Credential == PSCredential.Empty ? null : Credential;
        var password = credential?.GetNetworkCredential()?.Password;
        AddLogSecret(password);
        var connectionString = ConnectionStrings.Build(ConnectionString, Server, Port, Database, credential?.UserName, password);

        // The password may also come from the string itself, PGPASSWORD or ~/.pgpass.
        AddLogSecret(PasswordOf(connectionString));
        return connectionString;
    }

    private static string? PasswordOf(string connectionString)
    {
        var settings = new DbConnectionStringBuilder { ConnectionString = connectionString };
        foreach (var key in (string[])["Password", "Pwd", "Psw"])
        {
            if (settings.TryGetValue(key, out var value) && value is string { Length: > 0 } text)
            {
                return text;
            }
        }

        return null;
    }
}
