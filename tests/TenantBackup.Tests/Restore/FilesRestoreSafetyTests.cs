using System.Formats.Tar;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Archive;
using Xunit;
using static TenantBackup.Tests.Restore.FilesRestoreSupport;

namespace TenantBackup.Tests.Restore;

/// <summary>Archives crafted to write outside the restored folder are refused, and nothing outside is touched.</summary>
public class FilesRestoreSafetyTests
{
    public static TheoryData<string, Compression> Attacks()
    {
        var data = new TheoryData<string, Compression>();
        foreach (string attack in new[] { "parent", "nested parent", "absolute", "symlink", "hard link" })
        {
            data.Add(attack, Compression.Zstd);
            data.Add(attack, Compression.None);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task CraftedTar_IsArchiveCorrupt_AndNothingIsWrittenOutsideTheStagingFolder(string attack, Compression compression)
    {
        using var temp = new TempFolder();
        string live = temp.File("live/tenant-42");
        Directory.CreateDirectory(live);
        File.WriteAllText(Path.Combine(live, "mine.txt"), "keep me\n");
        string secret = temp.File("secret.txt");
        File.WriteAllText(secret, "not for the archive to touch\n");
        TarEntry[] crafted = attack switch
        {
            "parent" => [Regular("../escape.txt", "x")],
            "nested parent" => [Regular("files/01/../../escape.txt", "x")],
            "absolute" => [Regular(temp.File("live/escape.txt"), "x")],
            "symlink" =>
            [
                new PaxTarEntry(TarEntryType.SymbolicLink, "files/01/link") { LinkName = temp.Path },
                Regular("files/01/link/escape.txt", "x"),
            ],
            "hard link" => [new PaxTarEntry(TarEntryType.HardLink, "files/01/hard") { LinkName = secret }],
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };
        byte[] archive = CraftedArchive(
            compression, [Regular("files/01/ok.txt", "fine\n"), .. crafted, Regular("files/01/after.txt", "x")]);
        List<string> before = Listing(temp.Path);
        int extracted = 0;

        var ex = await Assert.ThrowsAsync<TenantBackupException>(async () =>
        {
            await using ArchiveReader reader = ArchiveReader.Open(new MemoryStream(archive), "crafted.tar");
            Assert.Equal(compression, reader.Compression);
            using var files = new FilesRestore([new FileRestoreTarget("files/01/", live)], RestoreId);
            while (await reader.NextEntryAsync(default) is { } entry)
            {
                await files.ExtractAsync(entry, default);
                extracted = files.FileCount;
            }
        });

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Equal(1, extracted);
        Assert.Equal(before, Listing(temp.Path));
    }

    [Theory]
    [InlineData("files/01/../../escape.txt")]
    [InlineData("files/01/sub/../../../escape.txt")]
    [InlineData("files/01//escape.txt")]
    [InlineData("files/01/./escape.txt")]
    public async Task UnsafeNameReachingFilesRestore_IsRefusedToo(string name)
    {
        using var temp = new TempFolder();
        string live = temp.File("live/tenant-42");
        Directory.CreateDirectory(live);
        List<string> before = Listing(temp.Path);

        using (var files = new FilesRestore([new FileRestoreTarget("files/01/", live)], RestoreId))
        {
            var ex = await Assert.ThrowsAsync<TenantBackupException>(() => files.ExtractAsync(Entry(name, "x"), default));
            Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        }

        Assert.Equal(before, Listing(temp.Path));
    }

    [Fact]
    public async Task EntryUnderNoRoot_IsArchiveCorrupt()
    {
        using var temp = new TempFolder();
        using var files = new FilesRestore([new FileRestoreTarget("files/01/", temp.File("t"))], RestoreId);

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => files.ExtractAsync(Entry("files/02/a.txt", "x"), default));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Contains("files/02/a.txt", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData("files/01/a", "files/01/a")]
    [InlineData("files/01/a", "files/01/a/b.txt")]
    [InlineData("files/01/a/b.txt", "files/01/a")]
    public async Task ClashingEntries_AreArchiveCorrupt_AndTheFirstIsKeptAsWritten(string first, string second)
    {
        using var temp = new TempFolder();
        using var files = new FilesRestore([new FileRestoreTarget("files/01/", temp.File("t"))], RestoreId);
        await files.ExtractAsync(Entry(first, "first"), default);
        string written = Path.Combine(temp.File("t.restore-" + Id8), first["files/01/".Length..]);

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => files.ExtractAsync(Entry(second, "second"), default));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
        Assert.Equal("first", File.ReadAllText(written));
    }

    private static ArchiveEntry Entry(string name, string content)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(content);
        return new ArchiveEntry(name, bytes.Length, EntryTime, new MemoryStream(bytes));
    }
}
