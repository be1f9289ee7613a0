using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Backup;

/// <summary>
/// The issue's proof of a backup: extract the archive with plain tar and zstd, load its data entries with COPY FROM
/// into an empty copy of the schema, and get every row of the tenant back byte for byte, and nothing else.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BackupRoundTripTests(PostgresFixture fixture)
{
    [Theory]
    [InlineData(1, Compression.Zstd, "--zstd")]
    [InlineData(2, Compression.Gzip, "--gzip")]
    [InlineData(3, Compression.None, "")]
    public async Task Plain_tar_and_COPY_FROM_give_back_every_row_of_the_tenant_and_no_other(
        int tenant, Compression compression, string tarFlag)
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var info = await new BackupEngine().BackupAsync(
            scratch.Request(tenant.ToString()) with { Compression = compression, CompressionExplicit = true },
            null,
            CancellationToken.None);

        var extracted = Directory.CreateTempSubdirectory("tb-extract-").FullName;
        var target = await fixture.CreateDatabaseAsync(await fixture.SchemaTemplateAsync());
        try
        {
            var tar = await ProcessRunner.RunAsync(
                "tar", [.. tarFlag.Length > 0 ? new[] { tarFlag } : [], "-xf", info.Path, "-C", extracted], TimeSpan.FromMinutes(1));
            Assert.True(tar.Succeeded, tar.Describe());
            var sha = await ProcessRunner.RunAsync(
                "sha256sum", ["-c", info.Path + ".sha256"], TimeSpan.FromMinutes(1), workingDirectory: scratch.Repository);
            Assert.True(sha.Succeeded, sha.Describe());

            await LoadWithPsqlAsync(extracted, target);

            await using var source = await fixture.OpenConnectionAsync(scratch.Database);
            await using var restored = await fixture.OpenConnectionAsync(target);
            foreach (var table in TestSchema.ScopedTables)
            {
                var expected = await TableDump.RowsAsync(source, table, TestSchema.TenantWhere(table, tenant));
                var actual = await TableDump.RowsAsync(restored, table);
                Assert.Equal(TestSchema.RowCount(table, tenant), expected.Count);
                Assert.True(
                    expected.SequenceEqual(actual),
                    $"{table}: {expected.Count} rows expected, {actual.Count} loaded; first difference: " +
                    expected.Except(actual).Concat(actual.Except(expected)).FirstOrDefault());
            }

            foreach (var shared in TestSchema.SharedTables)
            {
                Assert.Empty(await TableDump.RowsAsync(restored, shared));
            }
        }
        finally
        {
            Directory.Delete(extracted, recursive: true);
            await fixture.DropDatabaseAsync(target);
        }
    }

    /// <summary>Loads every data entry, in the archive's table order, with psql's \copy: nothing of TenantBackup's.</summary>
    private async Task LoadWithPsqlAsync(string extracted, string database)
    {
        using var schema = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(extracted, "schema.json")));
        var script = new StringBuilder("SET session_replication_role = replica;\n"); // the cycle and shared parents are not loaded
        foreach (var table in schema.RootElement.GetProperty("tables").EnumerateArray())
        {
            var name = TableDump.QuoteIdentifier(table.GetProperty("schema").GetString()!) + "." +
                TableDump.QuoteIdentifier(table.GetProperty("name").GetString()!);
            var columns = string.Join(
                ", ", table.GetProperty("dataColumns").EnumerateArray().Select(c => TableDump.QuoteIdentifier(c.GetString()!)));
            var prefix = $"{table.GetProperty("ordinal").GetInt32():D4}-";
            var chunks = Directory.GetFiles(Path.Combine(extracted, "data"), prefix + "*.copy").Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(chunks);
            foreach (var chunk in chunks)
            {
                script.Append($"\\copy {name} ({columns}) FROM '{chunk}'\n");
            }
        }

        var file = Path.Combine(extracted, "load.sql");
        await File.WriteAllTextAsync(file, script.ToString());
        var psql = await ProcessRunner.RunAsync(
            fixture.PsqlPath,
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file],
            TimeSpan.FromMinutes(2),
            environment: fixture.EnvironmentFor(database));
        Assert.True(psql.Succeeded, psql.Describe());
    }

    [Fact]
    public async Task The_index_entry_sidecar_and_manifest_describe_the_archive_file()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var info = await new BackupEngine().BackupAsync(
            scratch.Request("1") with { Message = "before migration 42" }, null, CancellationToken.None);

        var bytes = await File.ReadAllBytesAsync(info.Path);
        var sha = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        Assert.Equal(bytes.Length, info.Size);
        Assert.Equal(sha, info.Sha256);
        Assert.Equal($"{sha}  {Path.GetFileName(info.Path)}\n", await File.ReadAllTextAsync(info.Path + ".sha256"));
        Assert.Matches(@"^tenant-1-\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.zst$", Path.GetFileName(info.Path));
        Assert.Equal(TestSchema.TotalRows(1), info.RowCount);
        Assert.Equal(TestSchema.ScopedTables.Count, info.TableCount);
        Assert.Equal(
            ("1", "tenant_id", "full", "available", "zstd", "before migration 42"),
            (info.Tenant, info.TenantColumn, info.Kind, info.Status, info.Compression, info.Message));
        Assert.Equal(scratch.Database, info.Database);

        var listed = Assert.Single(BackupRepository.Open(scratch.Repository).List("1"));
        Assert.Equal((info.Id, info.Path, info.Sha256, info.Size), (listed.Id, listed.Path, listed.Sha256, listed.Size));

        var (names, data) = await ArchiveContents.ReadAsync(info.Path);
        Assert.Equal(["tenantbackup.json", "schema.json"], names.Take(2));
        Assert.Equal("manifest.json", names[^1]);
        using var manifest = JsonDocument.Parse(data["manifest.json"]);
        Assert.Equal(TestSchema.TotalRows(1), manifest.RootElement.GetProperty("totals").GetProperty("rows").GetInt64());
        foreach (var entry in manifest.RootElement.GetProperty("entries").EnumerateArray())
        {
            var name = entry.GetProperty("name").GetString()!;
            Assert.Equal(entry.GetProperty("size").GetInt64(), data[name].Length);
            Assert.Equal(entry.GetProperty("sha256").GetString(), Convert.ToHexString(SHA256.HashData(data[name])).ToLowerInvariant());
        }

        using var metadata = JsonDocument.Parse(data["tenantbackup.json"]);
        var root = metadata.RootElement;
        Assert.Equal(
            ("tenantbackup/1", info.Id, "1", "integer"),
            (root.GetProperty("format").GetString(), root.GetProperty("id").GetString(),
                root.GetProperty("tenant").GetProperty("value").GetString(), root.GetProperty("tenant").GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("snapshot").GetProperty("snapshot").GetString()));
        Assert.DoesNotContain("password", Encoding.UTF8.GetString(data["tenantbackup.json"]), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Tenant_files_are_stored_under_files_with_their_relative_paths()
    {
        await using var scratch = await BackupScratch.CreateAsync(fixture);
        var folder = Directory.CreateTempSubdirectory("tb-files-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "uploads", "2026"));
        await File.WriteAllTextAsync(Path.Combine(folder, "logo.png"), "not really a png");
        await File.WriteAllBytesAsync(Path.Combine(folder, "uploads", "2026", "report é.pdf"), [0, 1, 2, 255]);

        var info = await new BackupEngine().BackupAsync(
            scratch.Request("2") with { IncludePaths = [folder] }, null, CancellationToken.None);

        var (names, data) = await ArchiveContents.ReadAsync(info.Path);
        Assert.Equal("not really a png", Encoding.UTF8.GetString(data["files/01/logo.png"]));
        Assert.Equal([0, 1, 2, 255], data["files/01/uploads/2026/report é.pdf"]);
        Assert.Equal("manifest.json", names[^1]);
        using var metadata = JsonDocument.Parse(data["tenantbackup.json"]);
        var root = Assert.Single(metadata.RootElement.GetProperty("files").EnumerateArray());
        Assert.Equal((folder, "files/01/"), (root.GetProperty("source").GetString(), root.GetProperty("entry").GetString()));
        Directory.Delete(folder, recursive: true);
    }
}
