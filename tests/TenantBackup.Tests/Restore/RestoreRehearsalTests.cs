using TenantBackup.Engine;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// A rehearsal runs the whole restore, every constraint checked, and rolls it back: what an integrity check with a test
/// restore relies on. Nothing may change, not even a sequence.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreRehearsalTests(PostgresFixture fixture)
{
    private const string SequencesSql =
        "SELECT string_agg(format('%s.%s=%s', schemaname, sequencename, coalesce(last_value, 0)), ',' ORDER BY schemaname, sequencename) " +
        "FROM pg_sequences";

    [Fact]
    public async Task A_rehearsed_clone_counts_what_a_real_one_does_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var request = scratch.Request(backup) with { TargetTenant = "5" };
        var before = await scratch.StateAsync();
        await using var connection = await scratch.OpenAsync();
        var sequences = await Sql.ScalarAsync<string>(connection, SequencesSql);

        var rehearsal = await new RestoreEngine().RehearseAsync(request, null, CancellationToken.None);

        await scratch.AssertUnchangedAsync(before);
        await scratch.AssertNoAdvisoryLocksAsync();
        Assert.Equal(sequences, await Sql.ScalarAsync<string>(connection, SequencesSql));
        Assert.Null(rehearsal.PreRestoreBackupId);
        var real = await RestoreScratch.RestoreAsync(request);
        Assert.Equal(
            real.Tables.Select(t => (t.Table, t.Inserted, t.Updated, t.Deleted, t.Remapped)),
            rehearsal.Tables.Select(t => (t.Table, t.Inserted, t.Updated, t.Deleted, t.Remapped)));
    }

    [Fact]
    public async Task A_rehearsal_into_a_schema_that_lost_a_column_fails_with_SchemaMismatch_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(2);
        await scratch.ExecAsync("ALTER TABLE public.customers DROP COLUMN notes");
        var before = await scratch.StateAsync();

        var error = await Assert.ThrowsAsync<TenantBackupException>(
            () => new RestoreEngine().RehearseAsync(scratch.Request(backup), null, CancellationToken.None));

        Assert.Equal(ErrorCode.SchemaMismatch, error.Code);
        await scratch.AssertUnchangedAsync(before);
    }
}
