using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Backup;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;
using Xunit;
using static TenantBackup.Tests.Integrity.Damage;

namespace TenantBackup.Tests.Integrity;

/// <summary>Checks of the backups a repository lists: the index records each one, and a test restore changes nothing.</summary>
[Collection(PostgresCollection.Name)]
public sealed class IntegrityRepositoryTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Each_check_is_recorded_in_the_index_and_a_repaired_archive_is_available_again()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var first = await scratch.BackupAsync(1);
        var second = await scratch.BackupAsync(2);
        byte[] original = await File.ReadAllBytesAsync(second.Path);
        var engine = new IntegrityEngine();

        var byId = Assert.Single(
            await engine.VerifyAsync(new IntegrityRequest { Ids = [first.Id], Repository = scratch.Repository }, null, default));
        Assert.Equal(IntegrityStatus.Valid, byId.Status);
        Assert.True(byId.Indexed);
        Assert.Equal(CheckOutcome.Passed, Check(byId, IntegrityChecks.Sha256Index).Outcome);
        var entry = Entry(scratch, first.Id);
        Assert.Equal(byId.VerifiedAt, entry.LastVerifiedAt);
        Assert.Equal("Valid", entry.LastVerifyResult);
        Assert.Null(Entry(scratch, second.Id).LastVerifiedAt);

        FlipAt(second.Path, original.Length / 2);
        var all = await engine.VerifyAsync(new IntegrityRequest { Repository = scratch.Repository }, null, default);
        Assert.Equal([first.Id, second.Id], all.Select(r => r.Id));
        Assert.Equal([IntegrityStatus.Valid, IntegrityStatus.Corrupt], all.Select(r => r.Status));
        Assert.Contains(IntegrityChecks.Sha256Index, Failed(all[1]));
        Assert.Equal((BackupStatus.Corrupt, "Corrupt"), (Entry(scratch, second.Id).Status, Entry(scratch, second.Id).LastVerifyResult));

        await File.WriteAllBytesAsync(second.Path, original);
        var repaired = Assert.Single(await engine.VerifyAsync(new IntegrityRequest { Paths = [second.Path] }, null, default));
        Assert.Equal(IntegrityStatus.Valid, repaired.Status);
        Assert.Equal((BackupStatus.Available, "Valid"), (Entry(scratch, second.Id).Status, Entry(scratch, second.Id).LastVerifyResult));
    }

    [Fact]
    public async Task A_listed_backup_whose_file_is_gone_is_Missing_and_so_marked_and_an_unknown_id_is_Missing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        File.Delete(backup.Path);

        var results = await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Ids = [backup.Id, "0190a1b2-0000-7000-8000-000000000000"], Repository = scratch.Repository },
            null,
            default);

        Assert.Equal([IntegrityStatus.Missing, IntegrityStatus.Missing], results.Select(r => r.Status));
        Assert.Equal(BackupStatus.Missing, Entry(scratch, backup.Id).Status);
        Assert.Contains("No backup with id", Check(results[1], IntegrityChecks.File).Message, StringComparison.Ordinal);
        Assert.Null(results[1].Path);
    }

    [Fact]
    public async Task A_test_restore_reports_what_it_would_do_and_leaves_the_database_as_it_was()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        string before = await TableDump.FingerprintAsync(connection);
        var phases = new List<string>();

        var result = Assert.Single(await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest
            {
                Ids = [backup.Id], Repository = scratch.Repository, RestoreTest = true, ConnectionString = scratch.ConnectionString,
            },
            new InlineProgress(e => phases.Add(e.Phase)),
            default));

        Assert.Equal(before, await TableDump.FingerprintAsync(connection));
        Assert.Contains("rollback", phases);
        Assert.DoesNotContain("commit", phases);
        Assert.True(result.Passed, string.Join("\n", result.Problems));
        var check = Check(result, IntegrityChecks.RestoreTest);
        Assert.Equal(CheckOutcome.Passed, check.Outcome);
        Assert.NotNull(result.RestoreTest);
        Assert.Equal(backup.TableCount, result.RestoreTest.Tables.Count);
        Assert.Equal(backup.RowCount, result.RestoreTest.Tables.Sum(t => t.ArchiveRows));
        Assert.True(result.RestoreTest.Inserted > 0);
        Assert.Contains($"{result.RestoreTest.Inserted} inserted", check.Message, StringComparison.Ordinal);
        Assert.Empty(scratch.Restores(backup.Id));
        Assert.Single(Directory.GetFiles(scratch.Repository, "*.tar.zst"));
    }

    [Fact]
    public async Task A_test_restore_into_a_schema_that_lost_a_column_fails_with_SchemaMismatch_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(2);
        await scratch.ExecAsync("ALTER TABLE public.customers DROP COLUMN notes");
        await using var connection = await scratch.OpenAsync();
        string before = await TableDump.FingerprintAsync(connection);

        var result = Assert.Single(await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Paths = [backup.Path], RestoreTest = true, ConnectionString = scratch.ConnectionString },
            null,
            default));

        Assert.Equal(before, await TableDump.FingerprintAsync(connection));
        Assert.Equal(IntegrityStatus.Valid, result.Status);
        Assert.False(result.Passed);
        Assert.Equal([IntegrityChecks.RestoreTest], Failed(result));
        Assert.StartsWith(nameof(ErrorCode.SchemaMismatch), Check(result, IntegrityChecks.RestoreTest).Message, StringComparison.Ordinal);
        Assert.Contains("notes", Check(result, IntegrityChecks.RestoreTest).Message, StringComparison.Ordinal);
        Assert.Null(result.RestoreTest);
        Assert.Equal("Valid", Entry(scratch, backup.Id).LastVerifyResult);
    }

    [Fact]
    public async Task A_corrupt_archive_is_not_test_restored()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        File.Delete(Sha256File.PathFor(backup.Path));

        var result = Assert.Single(await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest
            {
                Ids = [backup.Id], Repository = scratch.Repository, RestoreTest = true, ConnectionString = scratch.ConnectionString,
            },
            null,
            default));

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal(CheckOutcome.Skipped, Check(result, IntegrityChecks.RestoreTest).Outcome);
    }

    [Fact]
    public async Task Quick_and_a_test_restore_together_are_refused()
    {
        var error = await Assert.ThrowsAsync<TenantBackupException>(() => new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Paths = ["x.tar.zst"], Quick = true, RestoreTest = true }, null, default));

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
    }

    private static IndexEntry Entry(RestoreScratch scratch, string id) =>
        BackupRepository.Open(scratch.Repository).ReadIndex().Backups.Single(e => e.Id == id);
}
