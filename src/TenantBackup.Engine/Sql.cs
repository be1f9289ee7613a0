namespace TenantBackup.Engine;

/// <summary>Quoting for identifiers that come from the catalog. Values never go into SQL text: they are parameters.</summary>
internal static class Sql
{
    /// <summary>Quotes an identifier the way <c>quote_ident</c> would, always (never relying on it being a keyword or not).</summary>
    public static string Ident(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
