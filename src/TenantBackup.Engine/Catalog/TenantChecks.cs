using Npgsql;
using TenantBackup.Engine.Internal;

namespace TenantBackup.Engine.Catalog;

/// <summary>
/// Checks of the tenant value held in the transaction's <see cref="ScopeResolver.TenantSetting"/>, shared by backup
/// (the tenant to read) and restore (the tenant to write).
/// </summary>
internal static class TenantChecks
{
    /// <summary>Refuses a value the tenant column's type cannot hold, with <see cref="ErrorCode.InvalidTenantValue"/>.</summary>
    public static async Task EnsureValueFitsAsync(
        NpgsqlConnection connection, TenantScope scope, string tenant, CancellationToken cancellationToken)
    {
        var typed = $"pg_catalog.current_setting('{ScopeResolver.TenantSetting}')::{scope.TenantType}";
        if (await Db.CastFailureAsync(connection, typed, cancellationToken).ConfigureAwait(false) is { } e)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidTenantValue,
                $"'{tenant}' is not a valid {scope.TenantType} for the tenant column {scope.TenantColumn}: {e.MessageText}.",
                tenant,
                e);
        }
    }

    /// <summary>
    /// True when the tenant has a root row or rows in a direct table; null when the scope has neither kind of table
    /// (only indirect tables were selected), so there is nothing to ask.
    /// </summary>
    public static async Task<bool?> HasRowsAsync(NpgsqlConnection connection, TenantScope scope, CancellationToken cancellationToken)
    {
        var anchors = scope.Tables.Where(t => t.Kind != ScopeKind.Indirect).ToList();
        if (anchors.Count == 0)
        {
            return null;
        }

        var sql = "SELECT " + string.Join(" OR ", anchors.Select(t => $"EXISTS (SELECT 1 FROM {t.Table.SqlName} t0 WHERE {t.FilterSql})"));
        return await Db.ScalarAsync<bool>(connection, sql, cancellationToken).ConfigureAwait(false);
    }
}
