using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.EndToEnd;

/// <summary>
/// What the end-to-end tests look at from the outside, the way an operator would: the repository folder's files,
/// <c>backups.json</c> read as plain JSON, <c>tar</c> and <c>sha256sum</c>, and the server's <c>pg_locks</c>.
/// </summary>
internal static class EndToEndSupport
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The archives in a repository folder (<c>.tar.zst</c>, <c>.tar.gz</c>, <c>.tar</c>, encrypted <c>.tbenc</c>), by name.
    /// </summary>
    public static IReadOnlyList<string> Archives(string repository) =>
        Files(repository).Where(f => ArchiveSuffixes.Any(suffix => f.EndsWith(suffix, StringComparison.Ordinal))).ToList();

    private static readonly string[] ArchiveSuffixes = [".tar.zst", ".tar.gz", ".tar", ".tbenc"];

    /// <summary>The <c>.partial</c> files in a repository folder.</summary>
    public static IReadOnlyList<string> Partials(string repository) =>
        Files(repository).Where(f => f.EndsWith(".partial", StringComparison.Ordinal)).ToList();

    /// <summary>The <c>.sha256</c> files in a repository folder.</summary>
    public static IReadOnlyList<string> Sidecars(string repository) =>
        Files(repository).Where(f => f.EndsWith(".sha256", StringComparison.Ordinal)).ToList();

    /// <summary>Every file in a repository folder (none when it does not exist), full paths, sorted.</summary>
    public static IReadOnlyList<string> Files(string repository) =>
        Directory.Exists(repository) ? Directory.GetFiles(repository).Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>
    /// Fails when the repository holds anything but archives, their <c>.sha256</c> files, <c>backups.json</c> and its
    /// lock file (no <c>.partial</c>, no temporary index or checksum file).
    /// </summary>
    public static void AssertOnlyBackupFiles(string repository)
    {
        var expected = Archives(repository).Concat(Sidecars(repository))
            .Append(Path.Combine(repository, "backups.json"))
            .Append(Path.Combine(repository, "backups.json.lock"))
            .ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(Files(repository), f => !expected.Contains(f));
        Assert.Equal(Archives(repository).Select(a => a + ".sha256"), Sidecars(repository));
    }

    /// <summary>The entries of <c>backups.json</c> as (id, path relative to the repository); none when there is no index.</summary>
    public static IReadOnlyList<(string Id, string Path)> IndexEntries(string repository)
    {
        var index = Path.Combine(repository, "backups.json");
        if (!File.Exists(index))
        {
            return [];
        }

        using var document = JsonDocument.Parse(File.ReadAllText(index));
        return document.RootElement.GetProperty("backups").EnumerateArray()
            .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("path").GetString()!))
            .ToList();
    }

    /// <summary>Parses all of stdout as one JSON document: fails when anything else was printed there.</summary>
    public static JsonDocument ParseStdout(CliResult result)
    {
        try
        {
            return JsonDocument.Parse(result.Stdout);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"stdout is not one JSON document ({e.Message}).{Environment.NewLine}{result.Describe()}");
        }
    }

    /// <summary><c>sha256sum -c &lt;archive&gt;.sha256</c> in the archive's folder, as the design promises it works.</summary>
    public static async Task AssertSha256SumAsync(string archive)
    {
        var result = await ProcessRunner.RunAsync(
            "sha256sum", ["-c", Path.GetFileName(archive) + ".sha256"], ToolTimeout, workingDirectory: Path.GetDirectoryName(archive));
        Assert.True(result.Succeeded, result.Describe());
        Assert.Contains($"{Path.GetFileName(archive)}: OK", result.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The entry names <c>tar <paramref name="listFlags"/> archive</c> prints (e.g. <c>--zstd -tf</c>, <c>-tzf</c>,
    /// <c>-tf</c>), after checking the TenantBackup order: tenantbackup.json, schema.json, data/..., manifest.json last.
    /// </summary>
    public static async Task<IReadOnlyList<string>> AssertTarListingAsync(string archive, params string[] listFlags)
    {
        var result = await ProcessRunner.RunAsync("tar", [.. listFlags, archive], ToolTimeout);
        Assert.True(result.Succeeded, result.Describe());
        var entries = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(entries.Length >= 4, result.Describe());
        Assert.Equal("tenantbackup.json", entries[0]);
        Assert.Equal("schema.json", entries[1]);
        Assert.Equal("manifest.json", entries[^1]);
        Assert.All(entries[2..^1], e => Assert.StartsWith("data/", e, StringComparison.Ordinal));
        return entries;
    }

    /// <summary>
    /// Waits (up to 10 s: the server notices a killed client asynchronously) until no session holds an advisory lock in
    /// <paramref name="database"/> and no <c>tenantbackup</c> session is left; fails with what is still there.
    /// </summary>
    public static async Task AssertNoTenantBackupSessionAsync(PostgresFixture fixture, string database)
    {
        const string sql = """
            SELECT coalesce(string_agg(format('%s lock pid %s (%s %s/%s)', l.mode, l.pid, l.locktype, l.classid, l.objid), '; '), '')
            FROM pg_locks l JOIN pg_database d ON d.oid = l.database
            WHERE l.locktype = 'advisory' AND d.datname = $1
            UNION ALL
            SELECT coalesce(string_agg(format('session pid %s (%s, %s)', pid, application_name, state), '; '), '')
            FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tenantbackup'
            """;
        var watch = Stopwatch.StartNew();
        string left;
        do
        {
            await using var connection = new NpgsqlConnection(fixture.AdminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = database } } };
            var parts = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    parts.Add(reader.GetString(0));
                }
            }

            left = string.Join("; ", parts.Where(p => p.Length > 0));
            if (left.Length == 0)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (watch.Elapsed < TimeSpan.FromSeconds(10));

        Assert.Fail($"10 s after tenantbackup ended, {database} still has: {left}");
    }
}
