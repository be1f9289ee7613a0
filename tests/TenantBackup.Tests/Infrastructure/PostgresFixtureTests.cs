using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace TenantBackup.Tests.Infrastructure;

[Collection(PostgresCollection.Name)]
public sealed class PostgresFixtureTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task ServerAnswers()
    {
        await using var connection = new NpgsqlConnection(fixture.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT current_database(), current_setting('server_version_num')::int, version()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("postgres", reader.GetString(0));
        // DROP DATABASE ... WITH (FORCE) needs 13.
        Assert.True(reader.GetInt32(1) >= 130000, $"PostgreSQL 13 or later is needed, found {reader.GetString(2)}");
        output.WriteLine(
            $"{reader.GetString(2)} at {fixture.Host}:{fixture.Port}, started in {fixture.StartupTime.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task ThrowawayClusterIsConfiguredForTests()
    {
        if (fixture.Server.IsExternal)
        {
            output.WriteLine($"Using the server from {PostgresServer.ConnectionVariable}; nothing to check about its setup.");
            return;
        }

        Assert.True(Directory.Exists(fixture.Server.DataDirectory), fixture.Server.DataDirectory);
        Assert.Equal("127.0.0.1", fixture.Host);
        await using var connection = new NpgsqlConnection(fixture.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT current_setting('TimeZone'), current_setting('fsync'), current_setting('listen_addresses'), " +
            "current_setting('server_encoding'), (SELECT datcollate FROM pg_database WHERE datname = 'postgres'), " +
            "current_setting('unix_socket_directories'), current_user",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(["UTC", "off", "127.0.0.1", "UTF8", "C", fixture.Server.SocketDirectory!, "postgres"],
            Enumerable.Range(0, 7).Select(reader.GetString).ToArray());
    }

    [Fact]
    public async Task PsqlReachesTheServerThroughTheEnvironment()
    {
        var result = await ProcessRunner.RunAsync(
            fixture.PsqlPath,
            ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 6 * 7"],
            TimeSpan.FromSeconds(30),
            environment: fixture.EnvironmentFor("postgres"));
        Assert.True(result.Succeeded, result.Describe());
        Assert.Equal("42", result.Output.Trim());
    }

    [Fact]
    public async Task CreatesUniqueDatabasesAndDropsThemWhileInUse()
    {
        var first = await fixture.CreateDatabaseAsync();
        var second = await fixture.CreateDatabaseAsync();
        Assert.NotEqual(first, second);

        // A pooled, open connection must not stop the drop.
        await using (var connection = await fixture.OpenConnectionAsync(first))
        {
            await using var command = new NpgsqlCommand("SELECT current_database()", connection);
            Assert.Equal(first, await command.ExecuteScalarAsync());
            await fixture.DropDatabaseAsync(first);
        }

        await fixture.DropDatabaseAsync(second);
        await fixture.DropDatabaseAsync(second);
        Assert.False(await DatabaseExistsAsync(first));
        Assert.False(await DatabaseExistsAsync(second));
    }

    [Fact]
    public async Task TemplatesAreBuiltOnceAndRefuseConnections()
    {
        var names = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => fixture.TenantTemplateAsync()));
        Assert.Single(names.Distinct());
        output.WriteLine($"tenant template built in {fixture.TenantTemplateBuildTime?.TotalMilliseconds:F0} ms");

        var exception = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenConnectionAsync(names[0]));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, exception.SqlState);

        var schemaOnly = await fixture.SchemaTemplateAsync();
        Assert.NotEqual(names[0], schemaOnly);
    }

    [Fact]
    public async Task ClonesAreIndependent()
    {
        var template = await fixture.TenantTemplateAsync();
        var started = DateTime.UtcNow;
        var changed = await fixture.CreateDatabaseAsync(template);
        output.WriteLine($"clone took {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms");
        var untouched = await fixture.CreateDatabaseAsync(template);

        await using (var connection = await fixture.OpenConnectionAsync(changed))
        {
            await using var command = new NpgsqlCommand("DELETE FROM public.audit_log", connection);
            Assert.Equal(54, await command.ExecuteNonQueryAsync());
        }

        await using (var connection = await fixture.OpenConnectionAsync(untouched))
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM public.audit_log", connection);
            Assert.Equal(54L, await command.ExecuteScalarAsync());
        }

        await fixture.DropDatabaseAsync(changed);
        await fixture.DropDatabaseAsync(untouched);
    }

    [Fact]
    public async Task SchemaTemplateHasTheTablesButNoRows()
    {
        var database = await fixture.CreateDatabaseAsync(await fixture.SchemaTemplateAsync());
        await using var connection = await fixture.OpenConnectionAsync(database);
        var snapshot = await TableDump.SnapshotAsync(connection);
        Assert.Contains("billing.Charges", snapshot.Keys);
        Assert.All(snapshot, table => Assert.Empty(table.Value));
    }

    private async Task<bool> DatabaseExistsAsync(string name)
    {
        await using var connection = new NpgsqlConnection(fixture.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", connection);
        command.Parameters.Add(new() { Value = name });
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
