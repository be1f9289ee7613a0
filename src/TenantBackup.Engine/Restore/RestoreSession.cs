using Npgsql;
using TenantBackup.Engine.Catalog;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

/// <summary>
/// The restore's one transaction on one connection: read the target's catalog, compare it with the archive, stage
/// the archive's rows in temp tables, remap keys, then write the tenant's tables. Nothing is visible to anyone else
/// until COMMIT, and any failure before it rolls everything back.
/// </summary>
internal sealed partial class RestoreSession : IAsyncDisposable
{
    /// <summary>The transaction-local setting holding the tenant value the backup was taken from.</summary>
    private const string SourceSetting = "tenantbackup.source";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly RestoreRequest _request;
    private readonly RestoreSource _source;

    private RestoreSession(
        NpgsqlConnection connection, NpgsqlTransaction transaction, RestoreRequest request, RestoreSource source, string targetTenant)
    {
        _connection = connection;
        _transaction = transaction;
        _request = request;
        _source = source;
        TargetTenant = targetTenant;
    }

    public string TargetTenant { get; }

    public string SourceTenant => _source.Metadata.Tenant.Value;

    /// <summary>The restored tables in insert order (parents first).</summary>
    public IReadOnlyList<RestoreTable> Tables { get; private set; } = [];

    /// <summary>Foreign key cycles among the restored tables.</summary>
    public IReadOnlyList<ScopeCycle> Cycles { get; private set; } = [];

    public IReadOnlyList<SchemaDifference> Differences { get; private set; } = [];

    /// <summary>The target's tenant scope: every table that holds the target tenant's rows.</summary>
    private TenantScope Scope { get; set; } = null!;

    private bool Cloning => !string.Equals(TargetTenant, SourceTenant, StringComparison.Ordinal);

    public static async Task<RestoreSession> BeginAsync(
        NpgsqlConnection connection, RestoreRequest request, RestoreSource source, string targetTenant, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            // A role that row-level security would filter fails loudly instead of restoring part of a tenant.
            await Db.ExecuteAsync(connection, "SET LOCAL row_security = off", cancellationToken).ConfigureAwait(false);
            await Db.ExecuteAsync(
                connection,
                $"SELECT pg_catalog.set_config('{ScopeResolver.TenantSetting}', $1, true), " +
                $"pg_catalog.set_config('{SourceSetting}', $2, true), " +
                "pg_catalog.set_config('lock_timeout', $3, true)",
                cancellationToken,
                Db.Param(targetTenant),
                Db.Param(source.Metadata.Tenant.Value),
                Db.Param($"{Math.Max(1, (long)request.LockTimeout.TotalMilliseconds)}ms")).ConfigureAwait(false);
            return new RestoreSession(connection, transaction, request, source, targetTenant);
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Reads the target's catalog, resolves the target tenant's scope, compares it with the archive and settles the
    /// insert order. Returns the problems that stop the restore (schema differences are in <see cref="Differences"/>).
    /// </summary>
    public async Task<List<RestoreProblem>> PrepareAsync(CancellationToken cancellationToken)
    {
        var archive = _source.Schema;
        var selected = SelectTables();
        var catalog = await ReadCatalogAsync(
                archive.Tables.Select(t => t.Schema).Distinct(StringComparer.Ordinal).ToList(), cancellationToken)
            .ConfigureAwait(false);
        var differences = (await SchemaComparer.CompareAsync(_connection, selected, catalog, cancellationToken).ConfigureAwait(false))
            .ToList();

        Scope = ScopeResolver.Resolve(catalog, archive.TenantColumn, [], []);
        var scoped = Scope.Tables.ToDictionary(t => t.Table.QualifiedName, StringComparer.Ordinal);
        foreach (var table in selected)
        {
            var name = $"{table.Schema}.{table.Name}";
            if (!scoped.ContainsKey(name) && catalog.Any(t => string.Equals(t.QualifiedName, name, StringComparison.Ordinal)))
            {
                differences.Add(new SchemaDifference
                {
                    Table = name,
                    Kind = "not-in-scope",
                    Blocking = true,
                    Message = $"{name} is in the target but no longer holds tenant rows " +
                        $"(no {archive.TenantColumn} column and no foreign key path to one); " +
                        "restore into a database with the backup's schema, or leave the table out with -ExcludeTable / --exclude-table.",
                });
            }
        }

        differences.AddRange(TablesNotInBackup());
        Differences = differences;
        if (differences.Any(d => d.Blocking))
        {
            return [new RestoreProblem(ErrorCode.SchemaMismatch, SchemaComparer.Describe(differences))];
        }

        var byName = selected.ToDictionary(t => $"{t.Schema}.{t.Name}", StringComparer.Ordinal);
        var (order, cycles) = ForeignKeyOrder.Sort(selected.Select(t => scoped[$"{t.Schema}.{t.Name}"].Table).ToList());
        Tables = order.Select(t => new RestoreTable(byName[t.QualifiedName], scoped[t.QualifiedName])).ToList();
        Cycles = cycles;
        await TenantChecks.EnsureValueFitsAsync(_connection, Scope, TargetTenant, cancellationToken).ConfigureAwait(false);
        await PrepareRootValuesAsync(cancellationToken).ConfigureAwait(false);
        var problems = CheckModeAndCycles();
        problems.AddRange(await DependentsAsync(cancellationToken).ConfigureAwait(false));
        return problems;
    }

    /// <summary>True when the target tenant has a root row or rows in a direct table: then a safety backup is taken first.</summary>
    public async Task<bool> TargetTenantHasRowsAsync(CancellationToken cancellationToken) =>
        await TenantChecks.HasRowsAsync(_connection, Scope, cancellationToken).ConfigureAwait(false) == true;

    /// <summary>The archive's tables the request selects, with a clear error for a pattern that matches none.</summary>
    private List<Archive.SchemaDocument.SchemaTable> SelectTables()
    {
        var all = _source.Schema.Tables;
        var unmatched = _request.IncludeTables.Where(p => !all.Any(t => ScopeResolver.Matches(p, t.Schema, t.Name))).ToList();
        if (unmatched.Count > 0)
        {
            throw new TenantBackupException(
                ErrorCode.ScopeError,
                $"No table of the backup matches {string.Join(", ", unmatched.Select(p => $"'{p}'"))}. " +
                $"The backup holds {string.Join(", ", all.Select(t => $"{t.Schema}.{t.Name}"))}.",
                unmatched);
        }

        var selected = all
            .Where(t => _request.IncludeTables.Count == 0 || _request.IncludeTables.Any(p => ScopeResolver.Matches(p, t.Schema, t.Name)))
            .Where(t => !_request.ExcludeTables.Any(p => ScopeResolver.Matches(p, t.Schema, t.Name)))
            .ToList();
        if (selected.Count == 0)
        {
            throw new TenantBackupException(
                ErrorCode.ScopeError,
                "-IncludeTable / -ExcludeTable (--include-table / --exclude-table) leave no table of the backup to restore.",
                _request.ExcludeTables);
        }

        return selected;
    }

    /// <summary>
    /// The catalog as the backup described it: with only pg_catalog on the path, every type and table name is schema-qualified.
    /// </summary>
    private async Task<IReadOnlyList<CatalogTable>> ReadCatalogAsync(IReadOnlyList<string> schemas, CancellationToken cancellationToken)
    {
        var searchPath = await Db.ScalarAsync<string>(_connection, "SELECT pg_catalog.current_setting('search_path')", cancellationToken)
            .ConfigureAwait(false);
        await Db.ExecuteAsync(_connection, "SET LOCAL search_path = pg_catalog, pg_temp", cancellationToken).ConfigureAwait(false);
        var catalog = await CatalogReader.ReadTablesAsync(_connection, schemas, cancellationToken).ConfigureAwait(false);
        // User triggers and defaults run with the session's own path, so the writing happens under it again.
        await Db.ExecuteAsync(_connection, "SELECT pg_catalog.set_config('search_path', $1, true)", cancellationToken, Db.Param(searchPath))
            .ConfigureAwait(false);
        return catalog;
    }

    /// <summary>Problems of the mode and of the cycles, each a sentence that says what to do.</summary>
    private List<RestoreProblem> CheckModeAndCycles()
    {
        var problems = new List<RestoreProblem>();
        if (_request.Mode == RestoreMode.Merge)
        {
            problems.AddRange(Tables.Where(t => t.Catalog.PrimaryKey is null).Select(t => new RestoreProblem(
                ErrorCode.InvalidArgument,
                $"{t.Name} has no primary key, so Merge cannot tell which rows to overwrite; " +
                $"leave it out with -ExcludeTable / --exclude-table {t.Name}, or use Replace.")));
        }

        foreach (var cycle in Cycles.Where(c => !c.Breakable))
        {
            problems.Add(new RestoreProblem(
                ErrorCode.ScopeError,
                $"The tables {string.Join(", ", cycle.Tables)} reference each other through NOT NULL, non-deferrable foreign keys " +
                $"({string.Join(", ", cycle.Edges.Select(e => e.Constraint))}), so no insert order satisfies them; " +
                "make one DEFERRABLE or nullable."));
        }

        foreach (var edge in Cycles.SelectMany(c => c.Edges).Where(e => e.BreakBy == "null-then-update"))
        {
            var table = Tables.First(t => string.Equals(t.Name, edge.Table, StringComparison.Ordinal));
            if (table.Catalog.PrimaryKey is null)
            {
                problems.Add(new RestoreProblem(
                    ErrorCode.ScopeError,
                    $"{table.Name} has no primary key, so the cycle through {edge.Constraint} cannot be broken by setting it afterwards."));
                continue;
            }

            table.NullThenUpdate.AddRange(
                table.Catalog.ForeignKeys.First(f => string.Equals(f.Name, edge.Constraint, StringComparison.Ordinal)).Columns);
        }

        return problems;
    }

    /// <summary>The target tenant value, typed.</summary>
    private static string TargetValue(string type) => $"pg_catalog.current_setting('{ScopeResolver.TenantSetting}')::{type}";

    /// <summary>The source tenant value, typed.</summary>
    private static string SourceValue(string type) => $"pg_catalog.current_setting('{SourceSetting}')::{type}";

    private async Task<long> ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        await Db.ExecuteAsync(_connection, sql, cancellationToken).ConfigureAwait(false);

    private Task<long> CountAsync(string sql, CancellationToken cancellationToken) =>
        Db.ScalarAsync<long>(_connection, sql, cancellationToken);

    public Task CommitAsync(CancellationToken cancellationToken) => _transaction.CommitAsync(cancellationToken);

    /// <summary>The transaction's id (it has written, so it has one), which the files' swap journal records.</summary>
    public Task<long> TransactionIdAsync(CancellationToken cancellationToken) =>
        Db.ScalarAsync<long>(_connection, "SELECT txid_current()", cancellationToken);

    public ValueTask DisposeAsync() => _transaction.DisposeAsync();
}

/// <summary>Something that stops a restore, found before any change: its error code and a sentence that says what to do.</summary>
internal sealed record RestoreProblem(ErrorCode Code, string Message);
