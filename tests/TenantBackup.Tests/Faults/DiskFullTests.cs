using TenantBackup.Engine.Integrity;
using TenantBackup.Tests.EndToEnd;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static TenantBackup.Tests.EndToEnd.EndToEndSupport;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// The archive cannot be written whole: the repository is a small tmpfs that fills up (ENOSPC), or, where this run may not
/// mount one, and always in the second test, the process runs under a file size limit (<c>prlimit --fsize</c>, EFBIG).
/// The backup ends in <c>IOError</c> saying the disk is full and what to do, keeps no file, leaves the index as it was,
/// and once there is room the next backup succeeds and verifies.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DiskFullTests(PostgresFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task RepositoryFillsUp_IOErrorSaysTheDiskIsFull_NothingKept_AndTheNextBackupSucceeds()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        var repository = Path.Combine(folder.Path, "repo");
        Directory.CreateDirectory(repository);
        var mount = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", repository], TimeSpan.FromSeconds(10));
        output.WriteLine(mount.Succeeded ? "repository on a 2 MB tmpfs" : $"mount not permitted, prlimit instead: {mount.Describe()}");
        try
        {
            string[] backup =
                ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "2", "--repository", repository, "--json"];
            var first = await CliProcess.RunAsync(backup);
            Assert.True(first.ExitCode == 0, first.Describe());
            var filler = Path.Combine(folder.Path, "filler");
            if (mount.Succeeded)
            {
                // Leave a few KB: the uncompressed archive needs far more, an index update far less.
                filler = Path.Combine(repository, "filler");
                await using (var stream = File.Create(filler))
                {
                    stream.SetLength(new DriveInfo(repository).AvailableFreeSpace - (8 << 10));
                    stream.Write(new byte[1]); // tmpfs counts written pages only
                    await FillAsync(stream);
                }
            }

            var files = Files(repository);
            var index = await File.ReadAllBytesAsync(Path.Combine(repository, "backups.json"));

            var full = mount.Succeeded
                ? await CliProcess.RunAsync([.. backup, "--compression", "none"])
                : await RunUnderFileSizeLimitAsync([.. backup, "--compression", "none"], 16 << 10);

            AssertDiskFullError(full);
            Assert.Equal(files, Files(repository));
            Assert.Equal(index, await File.ReadAllBytesAsync(Path.Combine(repository, "backups.json")));

            File.Delete(filler);
            var next = await CliProcess.RunAsync([.. backup, "--compression", "none"]);
            Assert.True(next.ExitCode == 0, next.Describe());
            Assert.Equal(2, IndexEntries(repository).Count);
            AssertOnlyBackupFiles(repository);
            var verified = await new IntegrityEngine().VerifyAsync(
                new IntegrityRequest { Repository = repository }, null, CancellationToken.None);
            Assert.All(verified, r => Assert.True(r.Status == IntegrityStatus.Valid, $"{r.Path}: {r.Status}"));
        }
        finally
        {
            if (mount.Succeeded)
            {
                var unmount = await ProcessRunner.RunAsync("umount", [repository], TimeSpan.FromSeconds(10));
                Assert.True(unmount.Succeeded, unmount.Describe());
            }
        }

        await fixture.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task FileSizeLimit_IOErrorSaysSo_NothingKept_AndTheNextBackupSucceeds()
    {
        var database = await fixture.CreateTenantDatabaseAsync();
        using var folder = new TempFolder();
        string[] backup =
            ["backup", "--connection", fixture.ConnectionStringFor(database), "--tenant", "2", "--repository", folder.Path, "--json"];
        var first = await CliProcess.RunAsync(backup);
        Assert.True(first.ExitCode == 0, first.Describe());
        var files = Files(folder.Path);
        var index = await File.ReadAllBytesAsync(Path.Combine(folder.Path, "backups.json"));

        var limited = await RunUnderFileSizeLimitAsync([.. backup, "--compression", "none"], 16 << 10);

        AssertDiskFullError(limited);
        Assert.Equal(files, Files(folder.Path));
        Assert.Equal(index, await File.ReadAllBytesAsync(Path.Combine(folder.Path, "backups.json")));
        var next = await CliProcess.RunAsync([.. backup, "--compression", "none"]);
        Assert.True(next.ExitCode == 0, next.Describe());
        AssertOnlyBackupFiles(folder.Path);
        Assert.Equal(2, IndexEntries(folder.Path).Count);
        await fixture.DropDatabaseAsync(database);
    }

    private static void AssertDiskFullError(CliResult result)
    {
        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Empty(result.Stdout);
        Assert.True(result.Stderr.Contains("tenantbackup: error IOError:", StringComparison.Ordinal), result.Describe());
        Assert.True(result.Stderr.Contains("the disk is full", StringComparison.Ordinal), result.Describe());
        Assert.True(result.Stderr.Contains("Nothing was kept; free space in the repository", StringComparison.Ordinal), result.Describe());
    }

    /// <summary>
    /// The backup stopped before it writes anything (a pause point), given a file size limit with <c>prlimit --pid</c>,
    /// and let go: every write past <paramref name="bytes"/> into one file then fails with EFBIG.
    /// </summary>
    private static async Task<CliResult> RunUnderFileSizeLimitAsync(string[] arguments, long bytes)
    {
        using var paused = await PausedCli.StartAsync(arguments, "backup.connected");
        var limit = await ProcessRunner.RunAsync(
            "prlimit",
            ["--pid", paused.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), $"--fsize={bytes}"],
            TimeSpan.FromSeconds(10));
        Assert.True(limit.Succeeded, limit.Describe());
        return await paused.ResumeAsync();
    }

    private static async Task FillAsync(FileStream stream)
    {
        var block = new byte[64 << 10];
        stream.Position = 0;
        while (stream.Position + block.Length <= stream.Length)
        {
            await stream.WriteAsync(block);
        }

        await stream.WriteAsync(block.AsMemory(0, (int)(stream.Length - stream.Position)));
    }
}
