using TenantBackup.Engine;
using TenantBackup.Tests.Backup;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>Refused and failed restores: each says why with its error code and leaves database, files and index as they were.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreFailureTests(PostgresFixture fixture)
{
    /// <summary>A CHECK constraint the target added (NOT VALID, so its own rows pass) that the archive's rows break.</summary>
    /// <param name="table">The table, or null for the last table of the archive's insert order.</param>
    /// <param name="check">The constraint's condition.</param>
    [Theory]
    [InlineData("billing.Charges", "amount > 1000000")]
    [InlineData(null, "false")]
    public async Task A_constraint_a_late_table_breaks_rolls_back_everything_and_the_error_names_table_and_constraint(
        string? table, string check)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var folder = FolderTree.Create(scratch);
        var backup = await scratch.BackupAsync(1, [folder]);
        table ??= await LastTableAsync(backup.Path);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
            await Sql.ExecAsync(
                connection, $"ALTER TABLE {TableDump.QuoteName(table)} ADD CONSTRAINT restore_breaker CHECK ({check}) NOT VALID");
        }

        FolderTree.Change(folder);
        var files = FolderTree.Of(folder);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup));

        Assert.Equal(ErrorCode.DatabaseError, error.Code);
        Assert.Contains(TableDump.ParseName(table).Table, error.Message, StringComparison.Ordinal);
        Assert.Contains("restore_breaker", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
        Assert.Equal(files, FolderTree.Of(folder));
        Assert.Empty(FolderTree.Siblings(folder));
    }

    /// <summary>The table with the highest ordinal in the archive's schema.json: the order a restore inserts in.</summary>
    private static async Task<string> LastTableAsync(string archive)
    {
        using var schema = await ArchiveContents.JsonAsync(archive, "schema.json");
        var last = schema.RootElement.GetProperty("tables").EnumerateArray().MaxBy(t => t.GetProperty("ordinal").GetInt32());
        return $"{last.GetProperty("schema").GetString()}.{last.GetProperty("name").GetString()}";
    }

    [Fact]
    public async Task A_target_with_an_added_nullable_column_restores_with_the_column_null()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);
        await Sql.ExecAsync(
            connection, "ALTER TABLE public.customers ADD COLUMN extra text; UPDATE public.customers SET extra = 'set before';");

        await RestoreScratch.RestoreAsync(scratch.Request(backup));

        const string columns = "id, tenant_id, name, email, country_code, balance, tags, settings, ip, notes";
        Assert.Equal(
            backedUp["public.customers"], await Sql.LinesAsync(connection, $"SELECT {columns} FROM public.customers WHERE tenant_id = 1"));
        Assert.Equal(0L, await Sql.ScalarAsync<long>(connection, "SELECT count(extra) FROM public.customers WHERE tenant_id = 1"));
        Assert.Equal(
            0L, await Sql.ScalarAsync<long>(connection, "SELECT count(*) FROM public.customers WHERE tenant_id <> 1 AND extra IS NULL"));
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

    /// <summary>
    /// How the archive is damaged. A flipped byte of zstd data can decode to the very same tar stream, which only the
    /// file's own SHA-256 (sidecar or index) notices; without those, the damage must reach the content to be seen.
    /// </summary>
    public enum Damage
    {
        /// <summary>A byte in the middle of the compressed file; restored by id (sidecar and index know its SHA-256).</summary>
        MiddleByte,

        /// <summary>The same, with the <c>.sha256</c> file removed: the index still knows the SHA-256.</summary>
        MiddleByteWithoutSidecar,

        /// <summary>An uncompressed copy outside the repository, one byte of a data entry changed: only the manifest can tell.</summary>
        DataEntryByte,

        /// <summary>An uncompressed copy outside the repository whose first tar header claims an impossible size.</summary>
        TarHeaderSize,
    }

    [Theory]
    [InlineData(Damage.MiddleByte)]
    [InlineData(Damage.MiddleByteWithoutSidecar)]
    [InlineData(Damage.DataEntryByte)]
    [InlineData(Damage.TarHeaderSize)]
    public async Task A_corrupt_archive_is_refused_before_the_database_is_touched(Damage damage)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var uncompressed = damage is Damage.DataEntryByte or Damage.TarHeaderSize;
        var backup = await scratch.BackupAsync(1, compression: uncompressed ? Compression.None : Compression.Zstd);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var request = scratch.Request(backup);
        var archive = backup.Path;
        if (uncompressed)
        {
            archive = Path.Combine(scratch.Folder(), Path.GetFileName(backup.Path));
            File.Copy(backup.Path, archive);
            request = request with { BackupId = null, ArchivePath = archive };
        }

        var bytes = await File.ReadAllBytesAsync(archive);
        switch (damage)
        {
            case Damage.MiddleByte or Damage.MiddleByteWithoutSidecar:
                bytes[bytes.Length / 2] ^= 0x5A;
                break;
            case Damage.DataEntryByte:
                bytes[bytes.AsSpan().IndexOf("Customer 1-25"u8) + 9] ^= 0x01; // "1-25" becomes "0-25"
                break;
            case Damage.TarHeaderSize:
                "77777777777\0"u8.CopyTo(bytes.AsSpan(124)); // the size field of the first header: 8 GiB
                break;
        }

        await File.WriteAllBytesAsync(archive, bytes);
        if (damage == Damage.MiddleByteWithoutSidecar)
        {
            File.Delete(archive + ".sha256");
        }

        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(request);

        Assert.True(error.Code is ErrorCode.ArchiveCorrupt or ErrorCode.ChecksumMismatch, $"{error.Code}: {error.Message}");
        var after = await scratch.StateAsync();
        Assert.True(
            TableDump.Fingerprint(before.Rows) == TableDump.Fingerprint(after.Rows),
            TableDump.DescribeDifferences(before.Rows, after.Rows));
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
