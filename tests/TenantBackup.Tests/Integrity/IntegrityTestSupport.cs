using System.Formats.Tar;
using System.Security.Cryptography;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Integrity;
using TenantBackup.Tests.Archive;
using Xunit;

namespace TenantBackup.Tests.Integrity;

/// <summary>Damage done to archives the way disks, transfers and people do it, and what a check of them found.</summary>
internal static class Damage
{
    /// <summary>Rewrites a plain tar archive with its entries changed, and (like a careful forger) a matching <c>.sha256</c>.</summary>
    public static async Task RepackAsync(
        string path, Func<List<(string Name, byte[] Data)>, IEnumerable<(string Name, byte[] Data)>> change)
    {
        var entries = new List<(string Name, byte[] Data)>();
        using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                entries.Add((entry.Name, data.ToArray()));
            }
        }

        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            foreach ((string name, byte[] data) in change(entries))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            }
        }

        await ResealAsync(path);
    }

    /// <summary>A fresh <c>.sha256</c> for the file as it is now.</summary>
    public static async Task ResealAsync(string path) =>
        await Sha256File.WriteAsync(path, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path))), default);

    /// <summary>Flips one bit of the first byte of the first <c>data/</c> entry's contents in a plain tar archive.</summary>
    public static void FlipInFirstDataEntry(string path)
    {
        long offset = -1;
        using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (offset < 0 && reader.GetNextEntry() is { } entry)
            {
                if (entry.Name.StartsWith(ArchiveLayout.DataPrefix, StringComparison.Ordinal) && entry.Length > 0)
                {
                    offset = entry.DataOffset;
                }
            }
        }

        FlipAt(path, offset);
    }

    public static void FlipAt(string path, long offset)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x04;
        File.WriteAllBytes(path, bytes);
    }

    public static string[] Failed(IntegrityResult result) =>
        result.Checks.Where(c => c.Outcome == CheckOutcome.Failed).Select(c => c.Name).Order(StringComparer.Ordinal).ToArray();

    public static IntegrityCheck Check(IntegrityResult result, string name) => Assert.Single(result.Checks, c => c.Name == name);

    public static async Task<IntegrityResult> VerifyPathAsync(string path, string repository, bool quick = false)
    {
        var results = await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Paths = [path], Repository = repository, Quick = quick }, null, CancellationToken.None);
        return Assert.Single(results);
    }

    /// <summary>A copy of <paramref name="archive"/> (and its <c>.sha256</c>) in <paramref name="folder"/>, outside any index.</summary>
    public static string CopyOut(string archive, TempFolder folder)
    {
        string copy = folder.File(Path.GetFileName(archive));
        File.Copy(archive, copy);
        File.Copy(Sha256File.PathFor(archive), Sha256File.PathFor(copy));
        return copy;
    }
}
