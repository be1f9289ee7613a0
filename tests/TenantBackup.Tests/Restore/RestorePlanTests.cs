using TenantBackup.Engine;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// The plan (<c>-WhatIf</c> / <c>--dry-run</c>): what the restore then does, table by table, and nothing changed by computing it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestorePlanTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(RestoreMode.Replace, null)]
    [InlineData(RestoreMode.Merge, null)]
    [InlineData(RestoreMode.Append, null)]
    [InlineData(RestoreMode.Replace, "5")]
    public async Task The_plan_counts_what_the_restore_then_does(RestoreMode mode, string? targetTenant)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var request = scratch.Request(backup) with
        {
            Mode = mode,
            TargetTenant = targetTenant,
            ExcludeTables = mode == RestoreMode.Merge ? ["audit_log"] : [],
        };

        var plan = await RestoreScratch.PlanAsync(request);
        var result = await RestoreScratch.RestoreAsync(request);

        Assert.True(plan.CanRestore, string.Join("; ", plan.Problems));
        Assert.Equal((backup.Id, "1", targetTenant ?? "1", mode), (plan.BackupId, plan.Tenant, plan.TargetTenant, plan.Mode));
        Assert.Equal(result.Tables.Select(t => t.Table), plan.Tables.Select(t => t.Table));
        foreach (var (planned, done) in plan.Tables.Zip(result.Tables))
        {
            Assert.True(
                (planned.ArchiveRows, planned.Insert, planned.Update, planned.Delete, planned.Remap) ==
                (done.ArchiveRows, done.Inserted, done.Updated, done.Deleted, done.Remapped),
                $"{done.Table}: planned rows/insert/update/delete/remap " +
                $"{(planned.ArchiveRows, planned.Insert, planned.Update, planned.Delete, planned.Remap)}, done " +
                $"{(done.ArchiveRows, done.Inserted, done.Updated, done.Deleted, done.Remapped)}");
        }

        Assert.Equal(result.PreRestoreBackupId is not null, plan.PreRestoreBackup);
    }

    [Fact]
    public async Task The_plan_of_a_clone_shows_remapped_keys_their_collisions_and_how_the_cycle_is_broken()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);

        var plan = await RestoreScratch.PlanAsync(scratch.Request(backup) with { TargetTenant = "5" });

        Assert.True(plan.CanRestore, string.Join("; ", plan.Problems));
        Assert.Equal(KeyCollisionAction.Remap, plan.KeyCollision);
        Assert.Equal(TestSchema.RowCount("public.customers", 1), plan.Tables.Single(t => t.Table == "public.customers").Remap);
        Assert.True(plan.Tables.Sum(t => t.Remap) > 0);
        Assert.NotEmpty(plan.Collisions);
        Assert.All(plan.Collisions, c => Assert.Equal("remap", c.Resolution));
        Assert.Contains(plan.Collisions, c => c.Table == "billing.Payment Methods" && c.Surrogate && c.Columns.SequenceEqual(["Id"]));
        var cycle = Assert.Single(plan.Cycles, c => c.Tables.Contains("public.stores") && c.Tables.Contains("public.staff"));
        Assert.True(cycle.Breakable);
        var edge = Assert.Single(cycle.Edges, e => e.Constraint == TestSchema.CycleConstraint);
        Assert.Equal(("public.stores", "public.staff", "deferred"), (edge.Table, edge.References, edge.BreakBy));
        Assert.DoesNotContain(plan.SchemaDifferences, d => d.Blocking);
    }

    [Fact]
    public async Task Planning_changes_nothing_leaves_no_lock_and_takes_no_pre_restore_backup()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var before = await scratch.StateAsync();

        var plan = await RestoreScratch.PlanAsync(scratch.Request(backup));
        var clonePlan = await RestoreScratch.PlanAsync(scratch.Request(backup) with { TargetTenant = "5" });

        Assert.True(plan.PreRestoreBackup);
        Assert.True(plan.CanRestore && clonePlan.CanRestore, string.Join("; ", plan.Problems.Concat(clonePlan.Problems)));
        Assert.Equal(TestSchema.ScopedTables.Count, plan.Tables.Count);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task The_plan_of_a_clone_with_KeyCollision_Fail_cannot_restore_and_says_why()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();

        var plan = await RestoreScratch.PlanAsync(
            scratch.Request(backup) with { TargetTenant = "5", KeyCollision = KeyCollisionAction.Fail });

        Assert.False(plan.CanRestore);
        Assert.NotEmpty(plan.Problems);
        Assert.Contains(plan.Collisions, c => c.Table == "public.customers" && c.Resolution == "refuse");
        Assert.DoesNotContain(plan.Collisions, c => c.Resolution == "remap");
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task The_plan_against_a_drifted_schema_lists_the_differences_instead_of_failing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1);
        await scratch.ExecAsync("ALTER TABLE public.customers DROP COLUMN notes; ALTER TABLE public.employees ADD COLUMN nickname text;");
        var before = await scratch.StateAsync();

        var plan = await RestoreScratch.PlanAsync(scratch.Request(backup));

        Assert.False(plan.CanRestore);
        Assert.Contains(
            plan.SchemaDifferences, d => (d.Table, d.Column, d.Kind, d.Blocking) == ("public.customers", "notes", "missing-column", true));
        Assert.Contains(plan.SchemaDifferences, d => (d.Table, d.Column, d.Blocking) == ("public.employees", "nickname", false));
        Assert.Empty(plan.Tables);
        await scratch.AssertUnchangedAsync(before);
    }
}
