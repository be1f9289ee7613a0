using Npgsql;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Backup;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// A database small enough that thousands of its archives can be damaged and checked in seconds: two tenants, a few
/// rows in three tables (a child by foreign key only), and a folder of tenant files, backed up by the real engine.
/// </summary>
internal sealed class SmallTenant : IAsyncDisposable
{
    public const string Schema = """
        CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE notes (id serial PRIMARY KEY, tenant_id int NOT NULL REFERENCES tenants, body text);
        CREATE TABLE note_tags (note_id int NOT NULL REFERENCES notes, tag text NOT NULL, PRIMARY KEY (note_id, tag));
        INSERT INTO tenants VALUES (1, 'one'), (2, 'two');
        INSERT INTO notes (tenant_id, body) VALUES (1, 'first'), (1, E'tab\there\nand a newline'), (1, NULL), (2, 'other tenant');
        INSERT INTO note_tags VALUES (1, 'a'), (1, 'b'), (2, 'ü'), (4, 'theirs');
        """;

    private readonly PostgresFixture _fixture;
    private readonly List<string> _folders = [];

    private SmallTenant(PostgresFixture fixture, string database)
    {
        _fixture = fixture;
        Database = database;
        Repository = Folder("tb-hostile-repo-");
        Files = Path.Combine(Folder("tb-hostile-files-"), "tenant-1");
        Directory.CreateDirectory(Path.Combine(Files, "sub"));
        File.WriteAllText(Path.Combine(Files, "a.txt"), "tenant file\n");
        File.WriteAllBytes(Path.Combine(Files, "sub", "b.bin"), [0, 1, 2, 3, 255]);
    }

    public string Database { get; }

    public string Repository { get; }

    /// <summary>The tenant's files folder, backed up with every archive.</summary>
    public string Files { get; }

    public string ConnectionString => _fixture.ConnectionStringFor(Database);

    public static async Task<SmallTenant> CreateAsync(PostgresFixture fixture)
    {
        var database = await fixture.CreateDatabaseAsync();
        await using (var connection = await fixture.OpenConnectionAsync(database))
        await using (var command = new NpgsqlCommand(Schema, connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new SmallTenant(fixture, database);
    }

    /// <summary>A new temp folder, deleted with the database.</summary>
    public string Folder(string prefix, bool inMemory = false)
    {
        var folder = inMemory && Directory.Exists("/dev/shm")
            ? Directory.CreateDirectory(Path.Combine("/dev/shm", prefix + Guid.NewGuid().ToString("N"))).FullName
            : Directory.CreateTempSubdirectory(prefix).FullName;
        _folders.Add(folder);
        return folder;
    }

    public Task<NpgsqlConnection> OpenAsync() => _fixture.OpenConnectionAsync(Database);

    public async Task<string> FingerprintAsync()
    {
        await using var connection = await OpenAsync();
        return await TableDump.FingerprintAsync(connection);
    }

    public Task<BackupInfo> BackupAsync(Compression compression) =>
        new BackupEngine().BackupAsync(
            new BackupRequest
            {
                ConnectionString = ConnectionString,
                Tenant = "1",
                Repository = Repository,
                IncludePaths = [Files],
                Compression = compression,
                CompressionExplicit = true,
            },
            null,
            CancellationToken.None);

    /// <summary>A fresh backup of tenant 1, as a seed for mutations.</summary>
    public async Task<SeedArchive> SeedAsync(Compression compression)
    {
        var backup = await BackupAsync(compression);
        byte[] file = await File.ReadAllBytesAsync(backup.Path);
        using var tar = new MemoryStream();
        await using (Stream reading = CompressionStreams.OpenRead(new MemoryStream(file)))
        {
            await reading.CopyToAsync(tar);
        }

        return new SeedArchive(Path.GetFileName(backup.Path), compression, file, tar.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _fixture.DropDatabaseAsync(Database);
        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
