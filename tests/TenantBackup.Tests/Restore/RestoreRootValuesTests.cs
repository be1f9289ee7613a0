using TenantBackup.Engine;
using TenantBackup.Tests.EndToEnd;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// Clones of a tenant whose root table has a unique natural column (here a slug added to <c>public.tenants</c>): without
/// values of its own for the new root row the clone collides with the source, and <see cref="RestoreRequest.RootValues"/>
/// gives them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RestoreRootValuesTests(PostgresFixture fixture)
{
    /// <summary>The root row as the tests compare it, every column but the key.</summary>
    private const string RootRow = "SELECT name, slug, tier, plan_id, created_at, name_key FROM public.tenants WHERE id = ";

    [Fact]
    public async Task A_clone_without_root_values_is_a_KeyCollision_on_the_root_table_that_points_at_the_option()
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with { TargetTenant = "5" });

        Assert.Equal(ErrorCode.KeyCollision, error.Code);
        var collision = Assert.Single(Assert.IsAssignableFrom<IReadOnlyList<KeyCollisionInfo>>(error.Target));
        Assert.Equal(("public.tenants", false, "refuse"), (collision.Table, collision.Surrogate, collision.Resolution));
        Assert.Equal(["slug"], collision.Columns);
        Assert.Equal(["acme"], collision.Examples);
        Assert.Contains("public.tenants", error.Message, StringComparison.Ordinal);
        Assert.Contains("-RootValues @{ slug = ", error.Message, StringComparison.Ordinal);
        Assert.Contains("--root-value slug=", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task A_clone_with_root_values_has_them_in_its_root_row_and_equals_the_source_everywhere_else()
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        var source = await TenantData.ShapeAsync(connection, 1);
        var others = await TenantData.RowsOutsideAsync(connection, 5, 6);
        var sourceRoot = await Sql.LinesAsync(connection, RootRow + "1");

        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with
        {
            TargetTenant = "5",
            RootValues = new Dictionary<string, string?> { ["slug"] = "acme-staging", ["name"] = "Acme (staging) \\ 'quoted'" },
        });
        var second = await RestoreScratch.RestoreAsync(scratch.Request(backup) with
        {
            TargetTenant = "6",
            RootValues = new Dictionary<string, string?> { ["slug"] = null, ["plan_id"] = "1" },
        });

        Assert.Equal(("5", "6"), (result.TargetTenant, second.TargetTenant));
        Assert.Equal("acme-staging", result.RootValues["slug"]);
        Assert.Null(second.RootValues["slug"]);
        Assert.Equal(
            await Sql.LinesAsync(connection, "SELECT 'Acme (staging) \\ ''quoted''', 'acme-staging', tier, plan_id, created_at, " +
                "lower('Acme (staging) \\ ''quoted''') FROM public.tenants WHERE id = 1"),
            await Sql.LinesAsync(connection, RootRow + "5"));
        Assert.Equal(
            await Sql.LinesAsync(connection, "SELECT name, NULL, tier, 1, created_at, name_key FROM public.tenants WHERE id = 1"),
            await Sql.LinesAsync(connection, RootRow + "6"));
        foreach (var clone in new[] { 5, 6 })
        {
            TenantData.AssertEqual(
                WithoutRoot(source),
                WithoutRoot(await TenantData.ShapeAsync(connection, clone)),
                $"clone {clone} through its foreign keys");
        }

        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 5, 6), "the source and every other tenant");
        Assert.Equal(sourceRoot, await Sql.LinesAsync(connection, RootRow + "1"));
        var history = scratch.Restores(backup.Id);
        Assert.Equal(2, history.Count);
        var recorded = history[0].GetProperty("rootValues");
        Assert.Equal(
            ("acme-staging", "Acme (staging) \\ 'quoted'"),
            (recorded.GetProperty("slug").GetString(), recorded.GetProperty("name").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, history[1].GetProperty("rootValues").GetProperty("slug").ValueKind);
    }

    [Theory]
    [InlineData(RestoreMode.Replace)]
    [InlineData(RestoreMode.Merge)]
    public async Task A_restore_into_the_same_tenant_sets_the_root_values_and_restores_every_other_row(RestoreMode mode)
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(2);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 2);
        var others = await TenantData.RowsOutsideAsync(connection, 2);
        await scratch.ExecAsync("UPDATE public.customers SET notes = 'edited' WHERE tenant_id = 2");

        await RestoreScratch.RestoreAsync(scratch.Request(backup) with
        {
            Mode = mode,
            NoPreBackup = true,
            ExcludeTables = mode == RestoreMode.Merge ? ["audit_log"] : [], // no primary key, which Merge needs; nor a change
            RootValues = new Dictionary<string, string?> { ["slug"] = "globex-renamed", ["tier"] = "free" },
        });

        Assert.Equal(
            await Sql.LinesAsync(
                connection, "SELECT name, 'globex-renamed', 'free', plan_id, created_at, name_key FROM public.tenants WHERE id = 2"),
            await Sql.LinesAsync(connection, RootRow + "2"));
        var restored = await TenantData.RowsAsync(connection, 2);
        TenantData.AssertEqual(
            backedUp.Where(e => e.Key != TestSchema.RootTable).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal),
            restored.Where(e => e.Key != TestSchema.RootTable).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal),
            $"tenant 2 after a {mode} restore");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 2), "every other tenant");
    }

    [Fact]
    public async Task The_plan_sees_the_root_values_reports_no_collision_and_changes_nothing()
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();
        var request = scratch.Request(backup) with { TargetTenant = "5" };

        var refused = await RestoreScratch.PlanAsync(request);
        var plan = await RestoreScratch.PlanAsync(
            request with { RootValues = new Dictionary<string, string?> { ["slug"] = "acme-staging" } });

        Assert.False(refused.CanRestore);
        Assert.Contains(refused.Collisions, c => c.Table == "public.tenants" && c.Resolution == "refuse");
        Assert.Contains(refused.Problems, p => p.Contains("--root-value slug=", StringComparison.Ordinal));
        Assert.True(plan.CanRestore, string.Join("\n", plan.Problems));
        Assert.Equal("acme-staging", plan.RootValues["slug"]);
        Assert.Empty(refused.RootValues);
        Assert.DoesNotContain(plan.Collisions, c => c.Resolution == "refuse");
        Assert.Equal(1, plan.Tables.Single(t => t.Table == "public.tenants").Insert);
        await scratch.AssertUnchangedAsync(before);
    }

    [Theory]
    [InlineData("slugg", "x", "has no column 'slugg'", "name, tier, plan_id, created_at, slug")]
    [InlineData("id", "5", "key of the root table public.tenants", "-TargetTenant / --target-tenant")]
    [InlineData("name_key", "x", "public.tenants.name_key is a generated column", "leave it out")]
    [InlineData("name", null, "public.tenants.name is NOT NULL", "give a value")]
    [InlineData("created_at", "not a date", "'not a date' is not a valid timestamp with time zone for public.tenants.created_at", "")]
    [InlineData("tier", "platinum", "is not a valid public.plan_tier for public.tenants.tier", "")]
    public async Task A_root_value_the_root_table_cannot_take_is_an_InvalidArgument_and_changes_nothing(
        string column, string? value, string message, string hint)
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();
        var request = scratch.Request(backup) with
        {
            TargetTenant = "5",
            RootValues = new Dictionary<string, string?> { ["slug"] = "acme-staging", [column] = value },
        };

        var error = await RestoreScratch.RestoreFailsAsync(request);
        var planError = await Assert.ThrowsAsync<TenantBackupException>(() => RestoreScratch.PlanAsync(request));

        Assert.Equal((ErrorCode.InvalidArgument, ErrorCode.InvalidArgument), (error.Code, planError.Code));
        Assert.Equal(column, error.Target);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Root_values_for_a_restore_that_leaves_the_root_table_out_are_an_InvalidArgument()
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(1);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with
        {
            ExcludeTables = ["tenants"],
            RootValues = new Dictionary<string, string?> { ["slug"] = "acme-2" },
        });

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("root table public.tenants is not being restored", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task The_cli_clones_with_root_value_and_without_it_exits_5_naming_the_option()
    {
        await using var scratch = await ScratchWithSlugsAsync();
        var backup = await scratch.BackupAsync(1);
        await using var connection = await scratch.OpenAsync();
        string[] clone = ["restore", backup.Id, "--connection", scratch.ConnectionString, "--repository", scratch.Repository, "--yes",
            "--target-tenant", "5"];

        var refused = await CliProcess.RunAsync(clone);
        var cloned = await CliProcess.RunAsync([.. clone, "--root-value", "slug=acme-cli", "--root-value", "name="]);

        Assert.True(refused.ExitCode == 5, refused.Describe());
        Assert.Contains("--root-value slug=", refused.Stderr, StringComparison.Ordinal);
        Assert.True(cloned.ExitCode == 0, cloned.Describe());
        Assert.Contains("Root row set:       name = '', slug = 'acme-cli'", cloned.Stdout, StringComparison.Ordinal);
        Assert.Equal(["\tacme-cli"], await Sql.LinesAsync(connection, "SELECT name, slug FROM public.tenants WHERE id = 5"));
    }

    /// <summary>A tenant database whose root table has a unique slug (tenant 1 is <c>acme</c>) and a generated column.</summary>
    private async Task<RestoreScratch> ScratchWithSlugsAsync()
    {
        var scratch = await RestoreScratch.CreateAsync(fixture);
        await scratch.ExecAsync("""
            ALTER TABLE public.tenants ADD COLUMN slug text UNIQUE,
                ADD COLUMN name_key text GENERATED ALWAYS AS (lower(name)) STORED;
            UPDATE public.tenants SET slug = CASE id WHEN 1 THEN 'acme' ELSE 'tenant-' || id END;
            """);
        return scratch;
    }

    private static Dictionary<string, IReadOnlyList<string>> WithoutRoot(IReadOnlyDictionary<string, IReadOnlyList<string>> shape) =>
        shape.Where(e => e.Key != "tenants").ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
}
