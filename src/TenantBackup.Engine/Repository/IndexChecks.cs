namespace TenantBackup.Engine.Repository;

/// <summary>
/// What a <c>backups.json</c> must hold before anything acts on it. The index is a file people can edit, copy and
/// damage: an entry without an id, a path that leads out of the repository (<c>..</c>, absolute, or through a
/// symbolic link) or two entries naming one file would make a removal delete, or a restore read, what is not the
/// repository's. Such an index is refused whole, naming the first problem found.
/// </summary>
internal static class IndexChecks
{
    private const int MaxLinks = 40;

    /// <summary>The first problem of <paramref name="index"/>, read from the repository at <paramref name="root"/>; null if none.</summary>
    public static string? FirstProblem(IndexDocument index, string root)
    {
        if (index.Backups is null)
        {
            return "it has no 'backups' list";
        }

        string realRoot = RealPath(root);
        var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < index.Backups.Count; i++)
        {
            var entry = index.Backups[i];
            string where = $"entry {i + 1} of 'backups'";
            if (entry is null)
            {
                return $"{where} is null";
            }

            if (string.IsNullOrWhiteSpace(entry.Id))
            {
                return $"{where} has no id";
            }

            where = $"backup {entry.Id}";
            if (!ids.TryAdd(entry.Id, i))
            {
                int count = index.Backups.Count(e => string.Equals(e?.Id, entry.Id, StringComparison.OrdinalIgnoreCase));
                return $"backup id {entry.Id} appears {count} times (first as entry {ids[entry.Id] + 1})";
            }

            if (MissingField(entry) is { } field)
            {
                return $"{where} has no '{field}'";
            }

            if (!IsInside(entry.Path, realRoot, out string? real))
            {
                return $"{where} has the path '{entry.Path}', which is not a file inside the repository";
            }

            if (!paths.TryAdd(real, entry.Id))
            {
                return $"backups {paths[real]} and {entry.Id} name the same file '{entry.Path}'";
            }

            if (entry.Restores?.Any(r => r is null) == true)
            {
                return $"{where} has a null item in 'restores'";
            }
        }

        return null;
    }

    private static string? MissingField(IndexEntry entry) =>
        entry.Path is null ? "path"
        : entry.Tenant is null ? "tenant"
        : entry.TenantColumn is null ? "tenantColumn"
        : entry.Kind is null ? "kind"
        : entry.Sha256 is null ? "sha256"
        : entry.Compression is null ? "compression"
        : entry.Status is null ? "status"
        : entry.Source?.Database is null ? "source"
        : null;

    /// <summary>
    /// True for a relative path of plain segments that, with every symbolic link on the way followed, stays inside the
    /// repository; <paramref name="real"/> is where it leads.
    /// </summary>
    private static bool IsInside(string relative, string realRoot, out string real)
    {
        real = "";
        if (relative.Length == 0 || Path.IsPathRooted(relative) || relative.Contains('\\', StringComparison.Ordinal)
            || relative.Split('/').Any(s => s is "" or "." or ".."))
        {
            return false;
        }

        try
        {
            // The root is resolved once; each entry costs one look at each of its own segments (one, for the usual flat layout).
            real = Follow(realRoot, relative.Split('/'), 0);
        }
        catch (IOException)
        {
            return false;
        }

        return real.StartsWith(Path.TrimEndingDirectorySeparator(realRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>True when <paramref name="path"/>, links followed, is inside the repository at <paramref name="root"/>.</summary>
    public static bool StaysInside(string path, string root)
    {
        try
        {
            string inside = Path.TrimEndingDirectorySeparator(RealPath(root)) + Path.DirectorySeparatorChar;
            return RealPath(path).StartsWith(inside, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The path with every symbolic link in it followed, as far as the path exists.</summary>
    /// <exception cref="IOException">A loop of links, or too many of them.</exception>
    internal static string RealPath(string path, int depth = 0)
    {
        if (depth > MaxLinks)
        {
            throw new IOException($"Too many levels of symbolic links in '{path}'.");
        }

        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full)!;
        return Follow(root, full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries), depth);
    }

    /// <summary><paramref name="parts"/> below the real folder <paramref name="current"/>, each link on the way followed.</summary>
    private static string Follow(string current, IEnumerable<string> parts, int depth)
    {
        foreach (string part in parts)
        {
            string next = Path.Combine(current, part);
            string? link = new FileInfo(next).LinkTarget;
            current = link is null ? next : RealPath(Path.Combine(current, link), depth + 1);
        }

        return current;
    }
}
