using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Restore;

// Values the request sets in the target tenant's root row (RestoreRequest.RootValues), so a clone of a tenant whose root
// table has a unique natural column (a slug, a subdomain) does not collide with its source. Each value travels as a
// transaction-local setting, like the tenant value, and is cast to its column's type where the rows are restored.
internal sealed partial class RestoreSession
{
    /// <summary>The root row's overridden columns, each with the SQL of its typed value.</summary>
    private readonly Dictionary<string, string> _rootValues = new(StringComparer.Ordinal);

    /// <summary>The restored root table, <c>schema.table</c>; null when the restore writes none.</summary>
    public string? RootTable => Tables.FirstOrDefault(t => t.IsRoot)?.Name;

    /// <summary>
    /// Checks the request's root values against the root table and puts them into settings; every problem is an
    /// <see cref="ErrorCode.InvalidArgument"/> found before anything is written.
    /// </summary>
    private async Task PrepareRootValuesAsync(CancellationToken cancellationToken)
    {
        var values = _request.RootValues;
        if (values.Count == 0)
        {
            return;
        }

        var root = Tables.FirstOrDefault(t => t.IsRoot) ?? throw RootValuesError(NoRootTable(), "RootValues");
        var rootKey = RootKey();
        var index = 0;
        foreach (var (column, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            CheckRootColumn(root, rootKey, column, value);
            var type = root.Catalog.Column(column).Type;
            if (value is null)
            {
                _rootValues[column] = $"NULL::{type}";
                continue;
            }

            var setting = FormattableString.Invariant($"tenantbackup.root_{index++}");
            await Db.ExecuteAsync(_connection, $"SELECT pg_catalog.set_config('{setting}', $1, true)", cancellationToken, Db.Param(value))
                .ConfigureAwait(false);
            var typed = $"pg_catalog.current_setting('{setting}')::{type}";
            await EnsureCastsAsync(root, column, value, typed, type, cancellationToken).ConfigureAwait(false);
            _rootValues[column] = typed;
        }
    }

    private string NoRootTable()
    {
        var purpose = "-RootValues / --root-value set columns of the new tenant's root row";
        if (Scope.Root is null)
        {
            return $"{purpose}, but no table in scope is the root table (one the tenant column {Scope.TenantColumn} references), " +
                "so there is no root row to set; leave -RootValues / --root-value out.";
        }

        return $"{purpose}, but the root table {Scope.Root.Table.QualifiedName} is not being restored; " +
            "restore it too (-IncludeTable / --include-table, not -ExcludeTable / --exclude-table), " +
            "or leave -RootValues / --root-value out.";
    }

    private static void CheckRootColumn(RestoreTable root, string? rootKey, string column, string? value)
    {
        var catalogColumn = root.Catalog.Columns.FirstOrDefault(c => string.Equals(c.Name, column, StringComparison.Ordinal));
        if (string.Equals(column, rootKey, StringComparison.Ordinal))
        {
            throw RootValuesError(
                $"{column} is the key of the root table {root.Name}: it holds the tenant value, " +
                $"which -TargetTenant / --target-tenant sets; leave {column} out of -RootValues / --root-value.",
                column);
        }

        if (catalogColumn is { Generated: true })
        {
            throw RootValuesError(
                $"{root.Name}.{column} is a generated column: PostgreSQL computes it, so it cannot be set; " +
                "leave it out of -RootValues / --root-value.",
                column);
        }

        if (catalogColumn is null || !root.Columns.Contains(column, StringComparer.Ordinal))
        {
            var settable = root.Columns.Where(c => !string.Equals(c, rootKey, StringComparison.Ordinal));
            var why = catalogColumn is null ? "has no column" : "is restored without the column (the backup does not hold it)";
            throw RootValuesError(
                $"The root table {root.Name} {why} '{column}' (-RootValues / --root-value); its columns that can be set are " +
                $"{string.Join(", ", settable)}. Column names are case-sensitive.",
                column);
        }

        if (value is null && catalogColumn.NotNull)
        {
            throw RootValuesError(
                $"{root.Name}.{column} is NOT NULL, so -RootValues / --root-value cannot set it to NULL; give a value.", column);
        }
    }

    /// <summary>Casts the value once, under a savepoint, so a bad one is an error naming the column instead of a failed write.</summary>
    private async Task EnsureCastsAsync(
        RestoreTable root, string column, string value, string typed, string type, CancellationToken cancellationToken)
    {
        if (await Db.CastFailureAsync(_connection, typed, cancellationToken).ConfigureAwait(false) is { } e)
        {
            throw RootValuesError(
                $"'{value}' is not a valid {type} for {root.Name}.{column} (-RootValues / --root-value): {e.MessageText}.", column, e);
        }
    }

    private static TenantBackupException RootValuesError(string message, string target, Exception? inner = null) =>
        new(ErrorCode.InvalidArgument, message + " Nothing was changed.", target, inner);
}
