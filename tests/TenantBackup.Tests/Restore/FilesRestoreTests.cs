using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Archive;
using Xunit;
using static TenantBackup.Tests.Restore.FilesRestoreSupport;

namespace TenantBackup.Tests.Restore;

public class FilesRestoreTests
{
    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task NestedFolder_ReplacesALiveFolderHoldingOtherFiles(Compression compression)
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, compression, source);
        string live = temp.File("live/tenant-42");
        Directory.CreateDirectory(Path.Combine(live, "old sub"));
        File.WriteAllText(Path.Combine(live, "a.txt"), "the live version\n");
        File.WriteAllText(Path.Combine(live, "old sub", "gone.txt"), "not in the backup\n");
        List<string> before = Listing(live);

        using (FilesRestore files = await ExtractAsync(archive, live))
        {
            Assert.Equal(before, Listing(live));
            Assert.Equal(4, files.FileCount);
            Assert.Equal(6 + 300_000 + 7, files.Bytes);

            files.SwapIn();

            Assert.Equal(Files(source), Files(live));
            Assert.Empty(Directory.GetDirectories(live, "old sub"));
            Assert.All(
                Directory.GetFiles(live, "*", SearchOption.AllDirectories),
                f => Assert.Equal(EntryTime.UtcDateTime, File.GetLastWriteTimeUtc(f)));
            string old = Assert.Single(Directory.GetDirectories(temp.File("live"), "tenant-42.pre-restore-*"));
            Assert.Matches(@"\.pre-restore-\d{8}T\d{6}Z$", old);
            Assert.Equal(before, Listing(old));

            files.Complete();

            Assert.False(Directory.Exists(old));
            Assert.Empty(files.LeftoverFolders);
        }

        Assert.Equal(["tenant-42"], Names(temp.File("live")));
        Assert.Equal(Files(source), Files(live));
    }

    [Fact]
    public async Task EmptyLiveFolder_IsReplaced()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string live = temp.File("live");
        Directory.CreateDirectory(live);

        using (FilesRestore files = await ExtractAsync(archive, live))
        {
            files.SwapIn();
            files.Complete();
        }

        Assert.Equal(Files(source), Files(live));
        Assert.Equal(["live", "source", "tenant-42.tar.zst"], Names(temp.Path));
    }

    [Fact]
    public async Task MissingDestination_IsCreatedWithItsParents_AndTheParentsGoAgainOnRollBack()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.None, source);
        string live = temp.File("new/parents/tenant-42");

        using (FilesRestore files = await ExtractAsync(archive, live))
        {
            files.SwapIn();
            Assert.Equal(Files(source), Files(live));
            Assert.Equal(["tenant-42"], Names(temp.File("new/parents")));

            files.RollBack();
        }

        Assert.False(Directory.Exists(temp.File("new")));
    }

    [Fact]
    public async Task SwapInThenRollBack_GivesBackExactlyTheOldFolder()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string parent = temp.File("live");
        string live = Path.Combine(parent, "tenant-42");
        Directory.CreateDirectory(Path.Combine(live, "deep", "er"));
        Directory.CreateDirectory(Path.Combine(live, "empty"));
        File.WriteAllText(Path.Combine(live, "a.txt"), "the live version\n");
        File.WriteAllBytes(Path.Combine(live, "deep", "er", "x.bin"), TestData.Random(50_000, seed: 32));
        File.SetLastWriteTimeUtc(Path.Combine(live, "a.txt"), new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        List<string> before = Listing(parent);

        using (FilesRestore files = await ExtractAsync(archive, live))
        {
            files.SwapIn();
            Assert.NotEqual(before, Listing(parent));

            files.RollBack();
        }

        Assert.Equal(before, Listing(parent));
    }

    [Fact]
    public async Task DisposeAfterSwapIn_WithoutComplete_RollsBack()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string parent = temp.File("live");
        Directory.CreateDirectory(Path.Combine(parent, "tenant-42"));
        File.WriteAllText(Path.Combine(parent, "tenant-42", "mine.txt"), "keep me\n");
        List<string> before = Listing(parent);

        using (FilesRestore files = await ExtractAsync(archive, Path.Combine(parent, "tenant-42")))
        {
            files.SwapIn();
        }

        Assert.Equal(before, Listing(parent));
    }

    [Fact]
    public async Task DisposeBeforeSwapIn_LeavesTheLiveFolderUntouched_AndNoStagingFolder()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string parent = temp.File("live");
        Directory.CreateDirectory(Path.Combine(parent, "tenant-42"));
        File.WriteAllText(Path.Combine(parent, "tenant-42", "mine.txt"), "keep me\n");
        List<string> before = Listing(parent);

        using (FilesRestore files = await ExtractAsync(archive, Path.Combine(parent, "tenant-42")))
        {
            Assert.Equal(["tenant-42", "tenant-42.restore-" + Id8], Names(parent));
        }

        Assert.Equal(before, Listing(parent));
    }

    [Fact]
    public async Task RootWithoutFiles_LeavesAnEmptyFolder()
    {
        using var temp = new TempFolder();
        string source = temp.File("source");
        Directory.CreateDirectory(Path.Combine(source, "only an empty folder"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string live = temp.File("live");
        Directory.CreateDirectory(live);
        File.WriteAllText(Path.Combine(live, "mine.txt"), "not in the backup\n");

        using (FilesRestore files = await ExtractAsync(archive, live))
        {
            Assert.Equal(0, files.FileCount);
            files.SwapIn();
            files.Complete();
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(live));
    }

    [Fact]
    public async Task SeveralRoots_BackToTheirSources()
    {
        using var temp = new TempFolder();
        string first = CreateSource(temp.File("data/one"));
        string second = temp.File("data/two");
        Directory.CreateDirectory(second);
        File.WriteAllText(Path.Combine(second, "b.txt"), "two\n");
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, first, second);
        List<string> firstFiles = Files(first);
        File.WriteAllText(Path.Combine(first, "a.txt"), "changed since the backup\n");
        File.Delete(Path.Combine(second, "b.txt"));
        File.WriteAllText(Path.Combine(second, "new.txt"), "added since the backup\n");

        using (FilesRestore files = await ExtractAsync(archive, filesPath: null))
        {
            files.SwapIn();
            files.Complete();
        }

        Assert.Equal(firstFiles, Files(first));
        Assert.Equal([$"f b.txt {Hash("two\n")}"], Files(second));
        Assert.Equal(["one", "two"], Names(temp.File("data")));
    }

    [Fact]
    public async Task FailedRename_UndoesTheRenamesDone_AndIsIOError()
    {
        using var temp = new TempFolder();
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, CreateSource(temp.File("s1")), CreateSource(temp.File("s2")));
        string parent = temp.File("live");
        Directory.CreateDirectory(Path.Combine(parent, "s1"));
        Directory.CreateDirectory(Path.Combine(parent, "s2"));
        File.WriteAllText(Path.Combine(parent, "s1", "mine.txt"), "one\n");
        File.WriteAllText(Path.Combine(parent, "s2", "mine.txt"), "two\n");
        List<string> before = Listing(parent);

        using (FilesRestore files = await ExtractAsync(archive, parent))
        {
            // The second folder's staging vanishes (another program cleaning up), after the first folder was swapped in.
            Directory.Delete(Assert.Single(Directory.GetDirectories(parent, "s2.restore-*")), recursive: true);

            var ex = Assert.Throws<TenantBackupException>(files.SwapIn);

            Assert.Equal(ErrorCode.IOError, ex.Code);
            Assert.Contains("Every folder is as it was", ex.Message, StringComparison.Ordinal);
            Assert.Equal(["s1", "s1.restore-" + Id8, "s2"], Names(parent));
        }

        Assert.Equal(before, Listing(parent));
    }

    [Fact]
    public async Task StaleStagingAndPreRestoreFolders_AreLeftAlone_AndFreshNamesUsed()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string parent = temp.File("live");
        string live = Path.Combine(parent, "tenant-42");
        Directory.CreateDirectory(live);
        string stale = live + ".restore-" + Id8;
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "a.txt"), "left by a killed restore\n");
        List<string> staleBefore = Listing(stale);

        using (FilesRestore files = await ExtractAsync(archive, live))
        {
            Assert.Equal(["tenant-42", "tenant-42.restore-" + Id8, $"tenant-42.restore-{Id8}-2"], Names(parent));
            files.SwapIn();
            files.Complete();
        }

        Assert.Equal(Files(source), Files(live));
        Assert.Equal(["tenant-42", "tenant-42.restore-" + Id8], Names(parent));
        Assert.Equal(staleBefore, Listing(stale));
    }

    [Fact]
    public async Task SymbolicLinkDestination_SwapsTheFolderItPointsTo()
    {
        using var temp = new TempFolder();
        string source = CreateSource(temp.File("source"));
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, source);
        string real = temp.File("disk/tenant-42");
        Directory.CreateDirectory(real);
        File.WriteAllText(Path.Combine(real, "mine.txt"), "old\n");
        Directory.CreateDirectory(temp.File("links"));
        string link = temp.File("links/tenant-42");
        Directory.CreateSymbolicLink(link, real);

        using (FilesRestore files = await ExtractAsync(archive, link))
        {
            files.SwapIn();
            Assert.Single(Directory.GetDirectories(temp.File("disk"), "tenant-42.pre-restore-*"));
            files.Complete();
        }

        Assert.Equal(real, new DirectoryInfo(link).LinkTarget);
        Assert.Equal(Files(source), Files(real));
        Assert.Equal(["tenant-42"], Names(temp.File("disk")));
    }

    [Fact]
    public async Task DestinationThatIsAFile_IsIOError_AndTheFileIsKept()
    {
        using var temp = new TempFolder();
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, CreateSource(temp.File("source")));
        string parent = temp.File("live");
        Directory.CreateDirectory(parent);
        File.WriteAllText(Path.Combine(parent, "tenant-42"), "a file, not a folder\n");
        List<string> before = Listing(parent);

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => ExtractAsync(archive, Path.Combine(parent, "tenant-42")));

        Assert.Equal(ErrorCode.IOError, ex.Code);
        Assert.Contains("is a file, not a folder", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Listing(parent));
    }

    [Fact]
    public async Task Cancellation_StopsExtraction_AndDisposeLeavesNothing()
    {
        using var temp = new TempFolder();
        string archive = await WriteArchiveAsync(temp, Compression.Zstd, CreateSource(temp.File("source")));
        string parent = temp.File("live");
        Directory.CreateDirectory(parent);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await using (ArchiveReader reader = ArchiveReader.Open(File.OpenRead(archive)))
        using (var files = new FilesRestore([new FileRestoreTarget("files/01/", Path.Combine(parent, "t"))], RestoreId))
        {
            ArchiveEntry first;
            do
            {
                first = (await reader.NextEntryAsync(default))!;
            }
            while (!first.Name.StartsWith("files/", StringComparison.Ordinal));

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => files.ExtractAsync(first, cancelled.Token));
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
    }

    [Fact]
    public void StepsOutOfOrder_AreRefused()
    {
        using var temp = new TempFolder();
        using var files = new FilesRestore([new FileRestoreTarget("files/01/", temp.File("t"))], RestoreId);

        Assert.Throws<InvalidOperationException>(files.Complete);
        Assert.Throws<InvalidOperationException>(files.RollBack);
        files.SwapIn();
        Assert.Throws<InvalidOperationException>(files.SwapIn);
        files.Complete();
        Assert.Throws<InvalidOperationException>(files.RollBack);
        Assert.True(Directory.Exists(temp.File("t")));
    }

    private static string Hash(string text) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
