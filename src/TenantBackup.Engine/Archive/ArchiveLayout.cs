namespace TenantBackup.Engine.Archive;

/// <summary>The names and order of the entries in a TenantBackup archive (format <c>tenantbackup/1</c>).</summary>
public static class ArchiveLayout
{
    /// <summary>The format identifier in <c>tenantbackup.json</c> and <c>manifest.json</c>.</summary>
    public const string FormatId = "tenantbackup/1";

    /// <summary>First entry: what the backup is.</summary>
    public const string TenantBackupJson = "tenantbackup.json";

    /// <summary>Second entry: the scoped tables' schema.</summary>
    public const string SchemaJson = "schema.json";

    /// <summary>Last entry: size, SHA-256 and rows of every other entry.</summary>
    public const string ManifestJson = "manifest.json";

    /// <summary>Folder of the tables' COPY text chunks.</summary>
    public const string DataPrefix = "data/";

    /// <summary>Folder of the tenant's files.</summary>
    public const string FilesPrefix = "files/";

    /// <summary>
    /// True for a name that stays inside the extraction folder on every platform: relative, forward slashes
    /// only, no empty, <c>.</c> or <c>..</c> segment, no drive letter, no control characters.
    /// </summary>
    internal static bool IsSafeEntryName(string name)
    {
        if (string.IsNullOrEmpty(name) || name[0] == '/' || name.Contains('\\', StringComparison.Ordinal)
            || (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        foreach (string segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }
}
