using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Archive;

namespace TenantBackup.Tests.Restore;

/// <summary>Archives with tenant files written by the engine's writer, and what a restore does with them.</summary>
internal static class FilesRestoreSupport
{
    public const string BackupId = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    /// <summary>A restore id whose last eight characters name the staging folders.</summary>
    public const string RestoreId = "0190b000-0000-7000-8000-00000000abcd";

    public const string Id8 = "0000abcd";

    public static readonly DateTimeOffset EntryTime = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    /// <summary>Backs up each of <paramref name="sources"/> as <c>files/NN/</c>, like <c>-IncludePath</c> does.</summary>
    public static async Task<string> WriteArchiveAsync(TempFolder temp, Compression compression, params string[] sources)
    {
        string path = temp.File("tenant-42" + CompressionStreams.Extension(compression));
        var metadata = new BackupMetadata
        {
            Id = BackupId,
            Files = sources
                .Select((s, i) => new BackupMetadata.FileRoot { Source = Path.GetFullPath(s), Entry = $"files/{i + 1:D2}/" })
                .ToList(),
        };
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        await using ArchiveWriter writer = ArchiveWriter.Create(output, compression, level: null, EntryTime);
        await writer.WriteJsonEntryAsync(ArchiveLayout.TenantBackupJson, metadata, default);
        await writer.WriteJsonEntryAsync(ArchiveLayout.SchemaJson, new { tables = Array.Empty<string>() }, default);
        foreach (var root in metadata.Files)
        {
            await writer.WriteFilesAsync(root.Source, root.Entry, default);
        }

        await writer.CompleteAsync(BackupId, default);
        return path;
    }

    /// <summary>Reads the archive the way a restore does: roots from tenantbackup.json, then every files/ entry extracted.</summary>
    public static async Task<FilesRestore> ExtractAsync(string archive, string? filesPath, FilesRestore.StagingOwner? owner = null)
    {
        FilesRestore? files = null;
        try
        {
            await using ArchiveReader reader = ArchiveReader.Open(File.OpenRead(archive));
            while (await reader.NextEntryAsync(default) is { } entry)
            {
                if (entry.Name == ArchiveLayout.TenantBackupJson)
                {
                    var metadata = await reader.ReadJsonAsync<BackupMetadata>(entry, default);
                    files = new FilesRestore(FilesRestore.Destinations(metadata.Files, filesPath), RestoreId, owner);
                }
                else if (entry.Name.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal))
                {
                    await files!.ExtractAsync(entry, default);
                }
            }

            return files!;
        }
        catch
        {
            files?.Dispose();
            throw;
        }
    }

    /// <summary>A nested folder: text, binary, empty and unicode-named files, and an empty subfolder the backup does not keep.</summary>
    public static string CreateSource(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "sub dir", "nested"));
        Directory.CreateDirectory(Path.Combine(root, "empty folder"));
        File.WriteAllText(Path.Combine(root, "a.txt"), "hello\n", new UTF8Encoding(false));
        File.WriteAllBytes(Path.Combine(root, "sub dir", "ü b.bin"), TestData.Random(300_000, seed: 31));
        File.WriteAllText(Path.Combine(root, "sub dir", "nested", "c.txt"), "nested\n", new UTF8Encoding(false));
        File.WriteAllBytes(Path.Combine(root, "empty.txt"), []);
        return root;
    }

    /// <summary>
    /// Everything under <paramref name="root"/>, one sorted line each: folders, links with their targets, files
    /// with their SHA-256 and (if asked) their modification time.
    /// </summary>
    public static List<string> Listing(string root, bool withTimes = true)
    {
        var lines = new List<string>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", options))
        {
            string relative = Path.GetRelativePath(root, path);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                lines.Add($"l {relative} -> {info.LinkTarget}");
            }
            else if (Directory.Exists(path))
            {
                lines.Add($"d {relative}");
            }
            else
            {
                string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
                lines.Add(withTimes ? $"f {relative} {hash} {File.GetLastWriteTimeUtc(path):O}" : $"f {relative} {hash}");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>The files only (what a backup keeps), without times.</summary>
    public static List<string> Files(string root) =>
        Listing(root, withTimes: false).Where(l => l.StartsWith("f ", StringComparison.Ordinal)).ToList();

    /// <summary>The names directly in <paramref name="folder"/>, sorted.</summary>
    public static string[] Names(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public static PaxTarEntry Regular(string name, string content) =>
        new(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            ModificationTime = EntryTime,
        };

    /// <summary>A hand-made archive (no manifest: the reader refuses before that matters) in <paramref name="compression"/>.</summary>
    public static byte[] CraftedArchive(Compression compression, params TarEntry[] entries)
    {
        var output = new MemoryStream();
        using (Stream compressed = CompressionStreams.OpenWrite(output, compression, level: null))
        {
            using var writer = new TarWriter(compressed, TarEntryFormat.Pax, leaveOpen: true);
            foreach (TarEntry entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }
}
