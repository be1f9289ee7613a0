using TenantBackup.Engine.Archive;

namespace TenantBackup.Engine.Restore;

/// <summary>One folder of the archive's tenant files: its entries' prefix (<c>files/NN/</c>) and the folder it is restored as.</summary>
internal sealed record FileRestoreTarget(string EntryPrefix, string Destination);

// Where each archive folder goes.
internal sealed partial class FilesRestore
{
    /// <summary>
    /// Where each archive file root goes: <paramref name="filesPath"/> null puts each root back at its recorded
    /// source; with one root, <paramref name="filesPath"/> is that folder; with several, each goes to
    /// <c>filesPath/&lt;last segment of its source&gt;</c> (a name taken already, in any letter case, gets -2, -3 ...).
    /// </summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.ArchiveCorrupt"/> for a root whose entry prefix is not a folder under <c>files/</c> or
    /// overlaps another's; <see cref="ErrorCode.InvalidArgument"/> for a source that is not a full path on this
    /// machine, or for destinations inside one another (they could not be swapped one by one).
    /// </exception>
    public static IReadOnlyList<FileRestoreTarget> Destinations(IReadOnlyList<BackupMetadata.FileRoot> roots, string? filesPath)
    {
        ArgumentNullException.ThrowIfNull(roots);
        CheckPrefixes(roots);
        var targets = new List<FileRestoreTarget>(roots.Count);
        if (filesPath is null)
        {
            foreach (var root in roots)
            {
                if (!Path.IsPathFullyQualified(root.Source))
                {
                    throw new TenantBackupException(
                        ErrorCode.InvalidArgument,
                        $"The archive's files were backed up from '{root.Source}', which is not a full path on this machine. "
                        + "Give a folder to restore them to (-FilesPath, --files-path).",
                        root.Source);
                }

                targets.Add(new FileRestoreTarget(root.Entry, Normalize(root.Source)));
            }
        }
        else if (roots.Count == 1)
        {
            targets.Add(new FileRestoreTarget(roots[0].Entry, Normalize(filesPath)));
        }
        else
        {
            string folder = Normalize(filesPath);
            var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var root in roots)
            {
                string name = FolderName(root);
                string unique = name;
                for (int n = 2; !taken.Add(unique); n++)
                {
                    unique = $"{name}-{n}";
                }

                targets.Add(new FileRestoreTarget(root.Entry, Path.Combine(folder, unique)));
            }
        }

        CheckNoNesting(targets);
        return targets;
    }

    private static string Normalize(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    /// <summary>The source's last segment, whichever platform wrote it; the prefix's own number when that is unusable.</summary>
    private static string FolderName(BackupMetadata.FileRoot root)
    {
        string source = root.Source.TrimEnd('/', '\\');
        string name = source[(source.LastIndexOfAny(['/', '\\']) + 1)..];
        bool usable = name.Length > 0 && name is not ("." or "..") && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0
            && !name.EndsWith(':');
        return usable ? name : root.Entry[ArchiveLayout.FilesPrefix.Length..^1].Replace('/', '-');
    }

    private static void CheckPrefixes(IReadOnlyList<BackupMetadata.FileRoot> roots)
    {
        for (int i = 0; i < roots.Count; i++)
        {
            string entry = roots[i].Entry ?? string.Empty;
            if (!entry.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal) || !entry.EndsWith('/')
                || entry.Length <= ArchiveLayout.FilesPrefix.Length || !ArchiveLayout.IsSafeEntryName(entry[..^1]))
            {
                throw Corrupt($"its files root '{entry}' is not a folder under {ArchiveLayout.FilesPrefix}");
            }

            for (int j = 0; j < i; j++)
            {
                string other = roots[j].Entry;
                if (entry.StartsWith(other, StringComparison.Ordinal) || other.StartsWith(entry, StringComparison.Ordinal))
                {
                    throw Corrupt($"its files roots '{other}' and '{entry}' overlap");
                }
            }
        }
    }

    private static void CheckNoNesting(List<FileRestoreTarget> targets)
    {
        for (int i = 0; i < targets.Count; i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (IsSameOrInside(targets[i].Destination, targets[j].Destination)
                    || IsSameOrInside(targets[j].Destination, targets[i].Destination))
                {
                    throw new TenantBackupException(
                        ErrorCode.InvalidArgument,
                        $"The archive's file folders go to '{targets[j].Destination}' and '{targets[i].Destination}', "
                        + "one inside the other, so they cannot be swapped in one by one. "
                        + "Give a folder to restore them to (-FilesPath, --files-path).",
                        targets[i].Destination);
                }
            }
        }
    }

    private static bool IsSameOrInside(string path, string folder) =>
        string.Equals(path, folder, PathComparison)
        || path.StartsWith(folder + Path.DirectorySeparatorChar, PathComparison);

    private static TenantBackupException Corrupt(string what) => new(
        ErrorCode.ArchiveCorrupt,
        $"The archive is damaged: {what}. Verify it and use another backup or copy.",
        ArchiveLayout.TenantBackupJson);
}
