using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>Refused and failed restores: each says why with its error code and leaves database, files and index as they were.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreFailureTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_constraint_the_last_table_breaks_rolls_back_everything_and_the_error_names_table_and_constraint()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var folder = FolderTree.Create(scratch);
        var backup = await scratch.BackupAsync(1, [folder]);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
            await Sql.ExecAsync(connection, """ALTER TABLE billing."Charges" ADD CONSTRAINT charges_positive CHECK (amount > 1000000) NOT VALID""");
        }

        FolderTree.Change(folder);
        var files = FolderTree.Of(folder);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup));

        Assert.Equal(ErrorCode.DatabaseError, error.Code);
        Assert.Contains("Charges", error.Message, StringComparison.Ordinal);
        Assert.Contains("charges_positive", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
        Assert.Equal(files, FolderTree.Of(folder));
        Assert.Empty(FolderTree.Siblings(folder));
    }

    [Fact]
    public async Task A_target_with_an_added_nullable_column_restores_with_the_column_null()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);
        await Sql.ExecAsync(connection, "ALTER TABLE public.customers ADD COLUMN extra text; UPDATE public.customers SET extra = 'set before';");

        await RestoreScratch.RestoreAsync(scratch.Request(backup));

        const string columns = "id, tenant_id, name, email, country_code, balance, tags, settings, ip, notes";
        Assert.Equal(backedUp["public.customers"], await Sql.LinesAsync(connection, $"SELECT {columns} FROM public.customers WHERE tenant_id = 1"));
        Assert.Equal(0L, await Sql.ScalarAsync<long>(connection, "SELECT count(extra) FROM public.customers WHERE tenant_id = 1"));
        Assert.Equal(0L, await Sql.ScalarAsync<long>(connection, "SELECT count(*) FROM public.customers WHERE tenant_id <> 1 AND extra IS NULL"));
        foreach (var table in TestSchema.ScopedTables.Where(t => t != "public.customers"))
        {
            Assert.Equal(backedUp[table], await TableDump.RowsAsync(connection, table, TestSchema.TenantWhere(table, 1)));
        }
    }

    [Fact]
    public async Task A_target_missing_columns_is_a_SchemaMismatch_listing_every_difference_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await scratch.ExecAsync("""ALTER TABLE public.customers DROP COLUMN notes; ALTER TABLE billing."Charges" DROP COLUMN note;""");
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup));

        Assert.Equal(ErrorCode.SchemaMismatch, error.Code);
        var differences = Assert.IsAssignableFrom<IReadOnlyList<SchemaDifference>>(error.Target);
        Assert.Contains(differences, d => (d.Table, d.Column, d.Kind, d.Blocking) == ("public.customers", "notes", "missing-column", true));
        Assert.Contains(differences, d => (d.Table, d.Column, d.Kind, d.Blocking) == ("billing.Charges", "note", "missing-column", true));
        Assert.Contains("notes", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_corrupt_archive_is_refused_before_the_database_is_touched(bool withoutChecksumFile)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var archive = backup.Path;
        if (withoutChecksumFile)
        {
            // Outside the repository, with no .sha256 and no index entry: only the archive's own manifest can tell.
            archive = Path.Combine(scratch.Folder(), Path.GetFileName(backup.Path));
            File.Copy(backup.Path, archive);
        }

        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(archive, bytes);
        var before = await scratch.StateAsync();
        var request = withoutChecksumFile ? scratch.Request(backup) with { BackupId = null, ArchivePath = archive } : scratch.Request(backup);

        var error = await RestoreScratch.RestoreFailsAsync(request);

        Assert.True(error.Code is ErrorCode.ArchiveCorrupt or ErrorCode.ChecksumMismatch, $"{error.Code}: {error.Message}");
        var after = await scratch.StateAsync();
        Assert.True(TableDump.Fingerprint(before.Rows) == TableDump.Fingerprint(after.Rows), TableDump.DescribeDifferences(before.Rows, after.Rows));
        Assert.Equal(before.Files, after.Files);
        await scratch.AssertNoAdvisoryLocksAsync();
    }

    [Fact]
    public async Task Neither_a_backup_id_nor_an_archive_path_is_InvalidArgument()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request("unused") with { BackupId = null });

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        await scratch.AssertUnchangedAsync(before);
    }
}
