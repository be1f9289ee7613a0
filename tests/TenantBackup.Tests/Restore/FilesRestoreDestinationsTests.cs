using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Restore;
using Xunit;

namespace TenantBackup.Tests.Restore;

public class FilesRestoreDestinationsTests
{
    private static readonly string Base = Path.Combine(Path.GetTempPath(), "tb-destinations");

    [Fact]
    public void NoRoots_NoTargets()
    {
        Assert.Empty(FilesRestore.Destinations([], null));
        Assert.Empty(FilesRestore.Destinations([], Path.Combine(Base, "restore")));
    }

    [Fact]
    public void WithoutFilesPath_EachRootGoesBackToItsSource()
    {
        string one = Path.Combine(Base, "a", "tenant-42");
        string two = Path.Combine(Base, "b", "tenant-42") + Path.DirectorySeparatorChar;

        Assert.Equal([new("files/01/", one)], FilesRestore.Destinations([Root(one, 1)], null));
        Assert.Equal(
            [new("files/01/", one), new("files/02/", Path.Combine(Base, "b", "tenant-42"))],
            FilesRestore.Destinations([Root(one, 1), Root(two, 2)], null));
    }

    [Fact]
    public void OneRoot_GoesToFilesPathItself()
    {
        string target = Path.Combine(Base, "restored");

        Assert.Equal([new("files/01/", target)], FilesRestore.Destinations([Root("/srv/tenants/42", 1)], target));
        Assert.Equal([new("files/01/", Path.GetFullPath("relative"))], FilesRestore.Destinations([Root("/srv/tenants/42", 1)], "relative"));
    }

    [Fact]
    public void SeveralRoots_GoUnderFilesPath_ByTheirLastSegment_DuplicatesNumbered()
    {
        string target = Path.Combine(Base, "restored");
        BackupMetadata.FileRoot[] roots =
        [
            Root("/a/data", 1), Root("/b/data/", 2), Root("/c/Data", 3), Root("/d/data-2", 4), Root(@"C:\tenants\uploads", 5),
            Root(@"C:\", 6), Root("/", 7), Root("/e/..", 8),
        ];

        IReadOnlyList<FileRestoreTarget> targets = FilesRestore.Destinations(roots, target);

        Assert.Equal(
            ["data", "data-2", "Data-3", "data-2-2", "uploads", "06", "07", "08"],
            targets.Select(t => Path.GetRelativePath(target, t.Destination)));
        Assert.Equal(roots.Select(r => r.Entry), targets.Select(t => t.EntryPrefix));
    }

    [Fact]
    public void SourceThatIsNotAFullPathHere_NeedsFilesPath()
    {
        var ex = Assert.Throws<TenantBackupException>(() => FilesRestore.Destinations([Root("relative/dir", 1)], null));

        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("-FilesPath", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestedDestinations_AreRefused()
    {
        string outer = Path.Combine(Base, "tenant");

        var ex = Assert.Throws<TenantBackupException>(
            () => FilesRestore.Destinations([Root(outer, 1), Root(Path.Combine(outer, "uploads"), 2)], null));

        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<TenantBackupException>(
            () => FilesRestore.Destinations([Root(outer, 1), Root(outer, 2)], null)).Code);
    }

    [Theory]
    [InlineData("data/01/")]
    [InlineData("files/01")]
    [InlineData("files/")]
    [InlineData("files/../")]
    [InlineData("files//")]
    [InlineData("/files/01/")]
    public void BadEntryPrefix_IsArchiveCorrupt(string entry)
    {
        var root = new BackupMetadata.FileRoot { Source = Path.Combine(Base, "x"), Entry = entry };

        var ex = Assert.Throws<TenantBackupException>(() => FilesRestore.Destinations([root], null));

        Assert.Equal(ErrorCode.ArchiveCorrupt, ex.Code);
    }

    [Fact]
    public void OverlappingEntryPrefixes_AreArchiveCorrupt()
    {
        var outer = new BackupMetadata.FileRoot { Source = Path.Combine(Base, "x"), Entry = "files/01/" };
        var inner = new BackupMetadata.FileRoot { Source = Path.Combine(Base, "y"), Entry = "files/01/y/" };

        var first = Assert.Throws<TenantBackupException>(() => FilesRestore.Destinations([outer, inner], null));
        var second = Assert.Throws<TenantBackupException>(() => FilesRestore.Destinations([inner, outer], null));

        Assert.Equal(ErrorCode.ArchiveCorrupt, first.Code);
        Assert.Equal(ErrorCode.ArchiveCorrupt, second.Code);
    }

    private static BackupMetadata.FileRoot Root(string source, int n) => new() { Source = source, Entry = $"files/{n:D2}/" };
}
