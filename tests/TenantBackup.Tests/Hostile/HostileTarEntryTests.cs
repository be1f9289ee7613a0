using System.Formats.Tar;
using System.Security.Cryptography;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;
using Xunit;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// A real backup with one crafted entry slipped in among its tenant files (and a matching <c>.sha256</c>): a name that
/// climbs out or is absolute, a link, a device or a FIFO. Verify reports it corrupt, naming the entry; restore refuses it
/// with <see cref="ErrorCode.ArchiveCorrupt"/> before any change, and nothing is written outside the restored folder.
/// (<see cref="FilesRestoreSafetyTests"/> covers the reader and the file extraction on their own.)
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostileTarEntryTests(PostgresFixture fixture)
{
    public static TheoryData<string> Attacks() =>
    [
        "parent", "nested parent", "absolute", "long GNU name with parent", "symlink", "hard link", "character device",
        "block device", "fifo", "directory",
    ];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task A_crafted_entry_is_corrupt_to_verify_and_refused_by_restore_with_nothing_written_outside(string attack)
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        string outside = tenant.Folder("tb-hostile-outside-");
        string sentinel = Path.Combine(outside, "sentinel.txt");
        File.WriteAllText(sentinel, "must survive\n");
        string fingerprint = await tenant.FingerprintAsync();
        var filesBefore = FolderTree.Of(Path.GetDirectoryName(tenant.Files)!);
        var outsideBefore = FolderTree.Of(outside);

        foreach (var compression in new[] { Compression.Zstd, Compression.None })
        {
            var seed = await tenant.SeedAsync(compression);
            var (name, crafted) = Crafted(attack, outside, sentinel);
            string path = await PlantAsync(tenant.Folder("tb-hostile-tar-"), seed, crafted);

            var verified = Assert.Single(await new IntegrityEngine().VerifyAsync(
                new IntegrityRequest { Paths = [path], Repository = tenant.Repository }, null, default));
            var refused = await Assert.ThrowsAsync<TenantBackupException>(() => new RestoreEngine().RestoreAsync(
                new RestoreRequest { ConnectionString = tenant.ConnectionString, ArchivePath = path, Repository = tenant.Repository },
                null,
                CancellationToken.None));

            Assert.Equal(IntegrityStatus.Corrupt, verified.Status);
            Assert.Contains(verified.Problems, p => p.Contains(name, StringComparison.Ordinal));
            Assert.Equal(ErrorCode.ArchiveCorrupt, refused.Code);
            Assert.Contains(name, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(fingerprint, await tenant.FingerprintAsync());
        Assert.Equal(filesBefore, FolderTree.Of(Path.GetDirectoryName(tenant.Files)!));
        Assert.Equal(outsideBefore, FolderTree.Of(outside));
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "escape*"));
    }

    /// <summary>The entry's name as the reader reports it, and the entry's tar bytes.</summary>
    private static (string Name, byte[] Bytes) Crafted(string attack, string outside, string sentinel)
    {
        const string Root = "files/01/";
        TarEntry entry = attack switch
        {
            "parent" => Regular("../escape.txt"),
            "nested parent" => Regular(Root + "sub/../../../escape.txt"),
            "absolute" => Regular(Path.Combine(Path.GetTempPath(), "escape.txt")),
            "long GNU name with parent" => new GnuTarEntry(TarEntryType.RegularFile, Root + new string('d', 120) + "/../../../escape.txt")
            {
                DataStream = new MemoryStream("x"u8.ToArray()),
            },
            "symlink" => new PaxTarEntry(TarEntryType.SymbolicLink, Root + "link") { LinkName = outside },
            "hard link" => new PaxTarEntry(TarEntryType.HardLink, Root + "hard") { LinkName = sentinel },
            "character device" => new PaxTarEntry(TarEntryType.CharacterDevice, Root + "null") { DeviceMajor = 1, DeviceMinor = 3 },
            "block device" => new PaxTarEntry(TarEntryType.BlockDevice, Root + "disk") { DeviceMajor = 8, DeviceMinor = 0 },
            "fifo" => new PaxTarEntry(TarEntryType.Fifo, Root + "pipe"),
            "directory" => new PaxTarEntry(TarEntryType.Directory, Root + "dir/"),
            _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, null),
        };
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, leaveOpen: true))
        {
            writer.WriteEntry(entry);
        }

        return (entry.Name, RawTar.Parse(tar.ToArray()).Entries.Single().Bytes);
    }

    private static PaxTarEntry Regular(string name) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("x"u8.ToArray()) };

    /// <summary>The seed with <paramref name="crafted"/> after its first tenant file, recompressed, with its <c>.sha256</c>.</summary>
    private static async Task<string> PlantAsync(string folder, SeedArchive seed, byte[] crafted)
    {
        var tar = RawTar.Parse(seed.Tar);
        int files = tar.Entries.FindIndex(e => e.Name.StartsWith(ArchiveLayout.FilesPrefix, StringComparison.Ordinal));
        tar.Entries.Insert(files + 1, new RawTar.Entry("crafted", crafted, 0));
        byte[] bytes = ArchiveMutator.Compress(tar.ToBytes(), seed.Compression);
        string path = Path.Combine(folder, seed.FileName);
        await File.WriteAllBytesAsync(path, bytes);
        await File.WriteAllTextAsync(Sha256File.PathFor(path), $"{Convert.ToHexStringLower(SHA256.HashData(bytes))}  {seed.FileName}\n");
        return path;
    }
}
