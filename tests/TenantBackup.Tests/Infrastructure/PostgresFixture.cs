using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Xunit;

namespace TenantBackup.Tests.Infrastructure;

/// <summary>
/// The xunit collection that shares one <see cref="PostgresFixture"/> (one server) across the whole test run.
/// Every test class that touches PostgreSQL must be marked <c>[Collection(PostgresCollection.Name)]</c> and take
/// <see cref="PostgresFixture"/> in its constructor; a class outside the collection would start a server of its own.
/// Tests in the collection run one at a time, so give each test its own database (<see cref="PostgresFixture.CreateDatabaseAsync"/>)
/// rather than relying on that.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    /// <summary>The collection name, for <c>[Collection(PostgresCollection.Name)]</c>.</summary>
    public const string Name = "Postgres";
}

/// <summary>
/// One PostgreSQL server for the test run (see <see cref="PostgresServer"/>), cheap throwaway databases, and template
/// databases holding <see cref="TestSchema"/> so that a test gets a fresh copy with
/// <c>await fixture.CreateDatabaseAsync(await fixture.TenantTemplateAsync())</c>. If the server cannot start, every
/// test in the collection fails with the reason; nothing is skipped.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    // Names must not clash with another run sharing an external server.
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
    private readonly ConcurrentDictionary<string, byte> _created = new(StringComparer.Ordinal);
    private readonly Lazy<Task<string>> _tenantTemplate;
    private readonly Lazy<Task<string>> _schemaTemplate;
    private PostgresServer? _server;
    private int _counter;

    /// <summary>Creates the fixture; the server starts in <see cref="InitializeAsync"/>.</summary>
    public PostgresFixture()
    {
        _tenantTemplate = new(() => BuildTemplateAsync("tenants", TestSchema.CreateSql()), LazyThreadSafetyMode.ExecutionAndPublication);
        _schemaTemplate = new(() => BuildTemplateAsync("schema", TestSchema.SchemaSql()), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The server behind the fixture.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not been initialised.");

    /// <summary>Connection string for the <c>postgres</c> database, as a superuser.</summary>
    public string AdminConnectionString => Server.AdminConnectionString;

    /// <summary>Host for psql/pg_dump and connection strings built by hand.</summary>
    public string Host => Server.Host;

    /// <summary>TCP port of the server.</summary>
    public int Port => Server.Port;

    /// <summary>Role the tests connect as.</summary>
    public string Username => Server.Username;

    /// <summary>Password of <see cref="Username"/>, or null (trust auth).</summary>
    public string? Password => Server.Password;

    /// <summary>Folder of the PostgreSQL programs (psql, pg_dump, pg_restore, ...) matching the server.</summary>
    public string BinDirectory => Server.BinDirectory ?? throw new PostgresServerException(
        "No PostgreSQL bin folder was found (no initdb on PATH or under /usr/lib/postgresql/*/bin); " +
        $"set {PostgresServer.BinDirectoryVariable}.");

    /// <summary>Full path of psql.</summary>
    public string PsqlPath => Server.ProgramPath("psql");

    /// <summary>How long starting the server took.</summary>
    public TimeSpan StartupTime => Server.StartupTime;

    /// <summary>How long building the tenant template took, once it has been built.</summary>
    public TimeSpan? TenantTemplateBuildTime { get; private set; }

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is null)
        {
            return;
        }

        // A cluster started here disappears whole; on a shared external server, clean up after this run.
        if (_server.IsExternal)
        {
            foreach (var name in _created.Keys)
            {
                await DropDatabaseAsync(name);
            }
        }

        await _server.DisposeAsync();
    }

    /// <summary>Connection string for <paramref name="database"/>.</summary>
    public string ConnectionStringFor(string database) => Server.ConnectionStringFor(database);

    /// <summary>Opens a connection to <paramref name="database"/>.</summary>
    public async Task<NpgsqlConnection> OpenConnectionAsync(string database)
    {
        var connection = new NpgsqlConnection(ConnectionStringFor(database));
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates an empty database (from template0), or a copy of <paramref name="template"/>, under a new unique name,
    /// and returns the name.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? template = null)
    {
        var name = NewDatabaseName("db");
        await CreateDatabaseCoreAsync(name, template ?? "template0");
        return name;
    }

    /// <summary>
    /// Drops a database, even while connections are open to it (they are terminated); no error if it is gone.
    /// Templates built by this fixture can be dropped too.
    /// </summary>
    public async Task DropDatabaseAsync(string name)
    {
        using (var pooled = new NpgsqlConnection(ConnectionStringFor(name)))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        var quoted = TableDump.QuoteIdentifier(name);
        await ExecuteAdminAsync(
            $"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_database WHERE datname = {QuoteLiteral(name)}) THEN " +
            $"ALTER DATABASE {quoted} WITH IS_TEMPLATE false ALLOW_CONNECTIONS true; END IF; END $$");
        await ExecuteAdminAsync($"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)");
        _created.TryRemove(name, out _);
    }

    /// <summary>
    /// The name of a template database holding <see cref="TestSchema"/> with its data, built on first use (once, even
    /// when called concurrently). It refuses connections, so that nothing can block cloning it: clone it with
    /// <see cref="CreateDatabaseAsync"/> and work on the copy.
    /// </summary>
    public Task<string> TenantTemplateAsync() => _tenantTemplate.Value;

    /// <summary>
    /// The name of a template database holding the <see cref="TestSchema"/> tables, all empty (e.g. a restore target
    /// in a new database). Built on first use, like <see cref="TenantTemplateAsync"/>.
    /// </summary>
    public Task<string> SchemaTemplateAsync() => _schemaTemplate.Value;

    /// <summary>A fresh copy of the tenant template; returns the new database's name.</summary>
    public async Task<string> CreateTenantDatabaseAsync() => await CreateDatabaseAsync(await TenantTemplateAsync());

    /// <summary>
    /// Standard libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD when there is one) for running psql,
    /// pg_dump or tenantbackup against <paramref name="database"/> without a connection string.
    /// </summary>
    public IReadOnlyDictionary<string, string?> EnvironmentFor(string database)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["PGHOST"] = Host,
            ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture),
            ["PGUSER"] = Username,
            ["PGDATABASE"] = database,
            // Remove a caller's password and service settings that could point libpq somewhere else.
            ["PGPASSWORD"] = Password,
            ["PGSERVICE"] = null,
            ["PGSERVICEFILE"] = null,
            ["PGPASSFILE"] = null,
            ["PGOPTIONS"] = null,
        };
        return environment;
    }

    private async Task<string> BuildTemplateAsync(string purpose, string sql)
    {
        var stopwatch = Stopwatch.StartNew();
        var name = NewDatabaseName(purpose + "_template");
        await CreateDatabaseCoreAsync(name, "template0");

        // No pooling: an idle pooled connection to a template makes every CREATE DATABASE ... TEMPLATE fail.
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStringFor(name)) { Pooling = false };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                await command.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }
        catch (PostgresException ex)
        {
            throw new PostgresServerException(
                $"Building the {purpose} template database {name} failed: {ex.MessageText}" +
                (ex.Detail is null ? "" : $" ({ex.Detail})") +
                (ex.Where is null ? "" : $"{Environment.NewLine}where: {ex.Where}") +
                                (ex.Position > 0
                    ? $"{Environment.NewLine}near: {Excerpt(ex.BatchCommand?.CommandText ?? sql, ex.Position)}"
                    : ""),
                ex);
        }

        var quoted = TableDump.QuoteIdentifier(name);
        await ExecuteAdminAsync($"ALTER DATABASE {quoted} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
        if (purpose == "tenants")
        {
            TenantTemplateBuildTime = stopwatch.Elapsed;
        }

        return name;
    }

    private async Task CreateDatabaseCoreAsync(string name, string template)
    {
        _created.TryAdd(name, 0);
        await ExecuteAdminAsync(
            $"CREATE DATABASE {TableDump.QuoteIdentifier(name)} TEMPLATE {TableDump.QuoteIdentifier(template)} ENCODING 'UTF8'");
    }

    private async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private string NewDatabaseName(string purpose) =>
        string.Create(CultureInfo.InvariantCulture, $"tbtest_{_runId}_{Interlocked.Increment(ref _counter):D4}_{purpose}");

    private static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Excerpt(string sql, int position)
    {
        var start = Math.Max(0, position - 1 - 60);
        var length = Math.Min(sql.Length - start, 120);
        return sql.Substring(start, length).ReplaceLineEndings(" ");
    }
}
