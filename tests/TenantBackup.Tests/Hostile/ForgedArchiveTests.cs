using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// Archives forged with care: SQL put into <c>schema.json</c> or <c>tenantbackup.json</c>, then the manifest's sizes and
/// SHA-256s and the <c>.sha256</c> rewritten so the archive verifies. The archive's text is data to compare with the
/// target's catalog, never SQL: each restore is refused with a typed error, and table <c>y</c> and every row survive.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ForgedArchiveTests(PostgresFixture fixture)
{
    private const string Injection = "'; DROP TABLE y; --";

    public static TheoryData<string, ErrorCode> Forgeries() => new()
    {
        { "a column type with SQL", ErrorCode.ArchiveCorrupt },
        { "a column name with SQL", ErrorCode.SchemaMismatch },
        { "a data column the column list does not describe", ErrorCode.ArchiveCorrupt },
        { "a table name with SQL", ErrorCode.SchemaMismatch },
        { "a schema name with SQL", ErrorCode.SchemaMismatch },
        { "a tenant value with SQL", ErrorCode.InvalidTenantValue },
        { "a tenant column with SQL", ErrorCode.ScopeError },
        { "a foreign key's column list under a damaged name", ErrorCode.ArchiveCorrupt },
        { "a column's name under a damaged name", ErrorCode.ArchiveCorrupt },
        { "a unique key that is null", ErrorCode.ArchiveCorrupt },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_forged_archive_that_verifies_cannot_run_its_text_as_SQL(string forgery, ErrorCode expected)
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        await using (var connection = await tenant.OpenAsync())
        await using (var command = new NpgsqlCommand("CREATE TABLE y (id int PRIMARY KEY); INSERT INTO y VALUES (1)", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        var seed = await tenant.SeedAsync(Compression.None);
        string path = Path.Combine(tenant.Folder("tb-hostile-forged-"), seed.FileName);
        await File.WriteAllBytesAsync(path, Forge(seed.Tar, forgery));
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        await File.WriteAllTextAsync(Sha256File.PathFor(path), $"{sha256}  {seed.FileName}\n");
        var verification = await ArchiveVerifier.VerifyAsync(path, CancellationToken.None);
        Assert.True(verification.IsValid, string.Join(" ", verification.Problems.Select(p => p.Message)));
        string fingerprint = await tenant.FingerprintAsync();

        var error = await Assert.ThrowsAsync<TenantBackupException>(() => new RestoreEngine().RestoreAsync(
            new RestoreRequest
            {
                ConnectionString = tenant.ConnectionString, ArchivePath = path, Repository = tenant.Repository, SkipFiles = true,
            },
            null,
            CancellationToken.None));

        Assert.True(error.Code == expected, $"{error.Code}: {error.Message}");
        if (expected == ErrorCode.ArchiveCorrupt)
        {
            var checkedOut = await new IntegrityEngine().VerifyAsync(
                new IntegrityRequest { Paths = [path], Repository = tenant.Repository }, null, CancellationToken.None);
            Assert.Equal(IntegrityStatus.Corrupt, Assert.Single(checkedOut).Status);
        }

        Assert.Equal(fingerprint, await tenant.FingerprintAsync());
    }

    /// <summary>The plain tar with one JSON header changed as <paramref name="forgery"/> says and the manifest made to match.</summary>
    private static byte[] Forge(byte[] tar, string forgery)
    {
        var entries = new List<(string Name, byte[] Data)>();
        using (var reader = new TarReader(new MemoryStream(tar)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                entries.Add((entry.Name, data.ToArray()));
            }
        }

        string target = forgery.StartsWith("a tenant", StringComparison.Ordinal)
            ? ArchiveLayout.TenantBackupJson
            : ArchiveLayout.SchemaJson;
        int index = entries.FindIndex(e => e.Name == target);
        var json = JsonNode.Parse(entries[index].Data)!;
        Change(json, forgery);
        entries[index] = (target, Encoding.UTF8.GetBytes(json.ToJsonString()));

        int last = entries.Count - 1;
        var manifest = JsonNode.Parse(entries[last].Data)!;
        foreach (var listed in manifest["entries"]!.AsArray())
        {
            var data = entries.Single(e => e.Name == listed!["name"]!.GetValue<string>()).Data;
            listed!["size"] = (long)data.Length;
            listed["sha256"] = Convert.ToHexStringLower(SHA256.HashData(data));
        }

        manifest["totals"]!["bytes"] = manifest["entries"]!.AsArray().Sum(e => e!["size"]!.GetValue<long>());
        entries[last] = (ArchiveLayout.ManifestJson, Encoding.UTF8.GetBytes(manifest.ToJsonString()));

        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            }
        }

        return output.ToArray();
    }

    /// <summary>What one flipped bit in a member's name does: the member is gone and an unknown one is there.</summary>
    private static void Rename(JsonObject json, string name, string damaged)
    {
        var value = json[name];
        json.Remove(name);
        json[damaged] = value;
    }

    private static JsonNode Body(JsonNode table) => table["columns"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "body")!;

    private static void Change(JsonNode json, string forgery)
    {
        var notes = json["tables"]?.AsArray().Single(t => t!["name"]!.GetValue<string>() == "notes");
        switch (forgery)
        {
            case "a column type with SQL":
                Body(notes!)["type"] = "text); DROP TABLE y; --";
                break;
            case "a column name with SQL":
                Body(notes!)["name"] = "body\"" + Injection;
                var data = notes!["dataColumns"]!.AsArray();
                data[data.Select(c => c!.GetValue<string>()).ToList().IndexOf("body")] = "body\"" + Injection;
                break;
            case "a data column the column list does not describe":
                notes!["dataColumns"]!.AsArray().Add("body\"" + Injection);
                break;
            case "a table name with SQL":
                notes!["name"] = "notes\"" + Injection;
                break;
            case "a schema name with SQL":
                notes!["schema"] = "public\"" + Injection;
                break;
            case "a tenant value with SQL":
                json["tenant"]!["value"] = "1" + Injection;
                break;
            case "a tenant column with SQL":
                json["tenant"]!["column"] = "tenant_id\"" + Injection;
                break;
            case "a foreign key's column list under a damaged name":
                Rename(notes!["foreignKeys"]!.AsArray()[0]!.AsObject(), "columns", "colunms");
                break;
            case "a column's name under a damaged name":
                Rename(Body(notes!).AsObject(), "name", "nane");
                break;
            case "a unique key that is null":
                notes!["uniqueKeys"] = new JsonArray(null, new JsonArray("id"));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(forgery), forgery, null);
        }
    }
}
