using Npgsql;
using TenantBackup.Tests.Infrastructure;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// A login role with a password the server really checks: the suite's cluster trusts every local connection, so a
/// <c>scram-sha-256</c> line for this role alone goes first in <c>pg_hba.conf</c> while it exists. The password is a
/// unique token of letters and digits, so a leak shows the same in every encoding a file or stream could use.
/// </summary>
internal sealed class PasswordRole : IAsyncDisposable
{
    private readonly PostgresFixture _fixture;
    private readonly string? _hbaFile;
    private readonly string? _hbaOriginal;

    private PasswordRole(PostgresFixture fixture, string name, string password, string? hbaFile, string? hbaOriginal)
    {
        _fixture = fixture;
        Name = name;
        Password = password;
        _hbaFile = hbaFile;
        _hbaOriginal = hbaOriginal;
    }

    public string Name { get; }

    public string Password { get; }

    /// <summary>
    /// True when the server refuses this role a wrong password (the suite's own cluster); false on a server whose
    /// <c>pg_hba.conf</c> the tests cannot edit.
    /// </summary>
    public bool Enforced => _hbaFile is not null;

    public static async Task<PasswordRole> CreateAsync(PostgresFixture fixture)
    {
        string name = "tb_secret_" + Guid.NewGuid().ToString("N")[..8];
        string password = "pw" + Guid.NewGuid().ToString("N");
        await using var admin = await fixture.OpenConnectionAsync("postgres");
        await ExecAsync(admin, $"CREATE ROLE {name} LOGIN SUPERUSER PASSWORD '{password}'");
        string hbaFile = (string)(await new NpgsqlCommand("SHOW hba_file", admin).ExecuteScalarAsync())!;
        if (!File.Exists(hbaFile))
        {
            return new PasswordRole(fixture, name, password, null, null);
        }

        string original = await File.ReadAllTextAsync(hbaFile);
        await File.WriteAllTextAsync(
            hbaFile, $"host all {name} 127.0.0.1/32 scram-sha-256\nhost all {name} ::1/128 scram-sha-256\n{original}");
        await ExecAsync(admin, "SELECT pg_reload_conf()");
        var role = new PasswordRole(fixture, name, password, hbaFile, original);
        await role.WaitUntilEnforcedAsync();
        return role;
    }

    /// <summary>A connection string for the role with <paramref name="password"/> (its own by default) in it.</summary>
    public string ConnectionStringFor(string database, string? password = null) =>
        new NpgsqlConnectionStringBuilder(_fixture.ConnectionStringFor(database))
        {
            Username = Name,
            Password = password ?? Password,
            Pooling = false,
        }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (_hbaFile is not null)
        {
            await File.WriteAllTextAsync(_hbaFile, _hbaOriginal);
        }

        await using var admin = await _fixture.OpenConnectionAsync("postgres");
        await ExecAsync(admin, "SELECT pg_reload_conf()");
        await ExecAsync(admin, $"DROP ROLE IF EXISTS {Name}");
    }

    // The reload is asynchronous: wait until a wrong password is refused.
    private async Task WaitUntilEnforcedAsync()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres", "wrong"));
                await connection.OpenAsync();
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
            {
                return;
            }

            if (attempt > 100)
            {
                throw new InvalidOperationException("pg_hba.conf was changed and reloaded, but the server still accepts a wrong password.");
            }

            await Task.Delay(50);
        }
    }

    private static async Task ExecAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
