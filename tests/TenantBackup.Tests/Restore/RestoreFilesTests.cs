using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>Tenant files in the archive: swapped into place with the rows, never over another tenant's folder by accident.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreFilesTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_restore_puts_the_folder_back_as_it_was_backed_up()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var folder = FolderTree.Create(scratch);
        var backedUp = FolderTree.Of(folder);
        var backup = await scratch.BackupAsync(1, [folder]);
        FolderTree.Change(folder);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup));

        Assert.Equal(backedUp, FolderTree.Of(folder));
        Assert.Equal(backedUp.Count, result.FilesRestored);
        Assert.Empty(FolderTree.Siblings(folder));
    }

    [Fact]
    public async Task A_clone_of_an_archive_with_files_needs_FilesPath_or_SkipFiles_and_changes_nothing_without()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var folder = FolderTree.Create(scratch);
        var backup = await scratch.BackupAsync(1, [folder]);
        FolderTree.Change(folder);
        var files = FolderTree.Of(folder);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with { TargetTenant = "5" });

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        await scratch.AssertUnchangedAsync(before);
        Assert.Equal(files, FolderTree.Of(folder));
        Assert.Empty(FolderTree.Siblings(folder));
    }

    [Fact]
    public async Task A_clone_with_FilesPath_puts_the_files_there_and_leaves_the_source_folder_alone()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var folder = FolderTree.Create(scratch);
        var backedUp = FolderTree.Of(folder);
        var backup = await scratch.BackupAsync(1, [folder]);
        FolderTree.Change(folder);
        var changed = FolderTree.Of(folder);
        var other = Path.Combine(scratch.Folder(), "tenant-5-files");

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { TargetTenant = "5", FilesPath = other });

        Assert.Equal(backedUp, FolderTree.Of(other));
        Assert.Equal(backedUp.Count, result.FilesRestored);
        Assert.Equal(changed, FolderTree.Of(folder));
        Assert.Empty(FolderTree.Siblings(other));
        Assert.Empty(FolderTree.Siblings(folder));
    }

    [Fact]
    public async Task A_clone_with_SkipFiles_restores_the_rows_and_no_file()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var folder = FolderTree.Create(scratch);
        var backup = await scratch.BackupAsync(1, [folder]);
        FolderTree.Change(folder);
        var changed = FolderTree.Of(folder);

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { TargetTenant = "5", SkipFiles = true });

        Assert.Equal(0, result.FilesRestored);
        Assert.Equal(changed, FolderTree.Of(folder));
        Assert.Equal(TestSchema.TotalRows(1), result.Inserted);
    }
}
