using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Tests.Infrastructure;

namespace TenantBackup.Tests.Backup;

/// <summary>What the backup tests share: a temp repository, requests against a fixture database, archive contents.</summary>
internal sealed class BackupScratch : IAsyncDisposable
{
    private readonly PostgresFixture _fixture;

    private BackupScratch(PostgresFixture fixture, string database)
    {
        _fixture = fixture;
        Database = database;
    }

    public string Database { get; }

    public string Repository { get; } = Directory.CreateTempSubdirectory("tb-backup-").FullName;

    public string ConnectionString => _fixture.ConnectionStringFor(Database);

    public static async Task<BackupScratch> CreateAsync(PostgresFixture fixture) =>
        new(fixture, await fixture.CreateTenantDatabaseAsync());

    public BackupRequest Request(string tenant) => new()
    {
        ConnectionString = ConnectionString,
        Tenant = tenant,
        Repository = Repository,
    };

    /// <summary>The repository's files, for "nothing was left behind" checks (the index lock file is not a backup).</summary>
    public IReadOnlyList<string> Files() =>
        Directory.GetFiles(Repository)
            .Select(Path.GetFileName)
            .Where(n => n != "backups.json.lock")
            .Order(StringComparer.Ordinal)
            .ToList()!;

    public async ValueTask DisposeAsync()
    {
        await _fixture.DropDatabaseAsync(Database);
        Directory.Delete(Repository, recursive: true);
    }
}

/// <summary>Reads a whole (small) archive into memory with the engine's reader.</summary>
internal static class ArchiveContents
{
    public static async Task<(List<string> Names, Dictionary<string, byte[]> Data)> ReadAsync(string path)
    {
        var names = new List<string>();
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using var reader = ArchiveReader.Open(File.OpenRead(path));
        while (await reader.NextEntryAsync(CancellationToken.None) is { } entry)
        {
            using var buffer = new MemoryStream();
            await entry.Data.CopyToAsync(buffer);
            names.Add(entry.Name);
            data[entry.Name] = buffer.ToArray();
        }

        return (names, data);
    }

    public static async Task<JsonDocument> JsonAsync(string path, string entry)
    {
        var (_, data) = await ReadAsync(path);
        return JsonDocument.Parse(data[entry]);
    }
}

/// <summary>Reports progress synchronously on the engine's thread, so a test can act at an exact point.</summary>
internal sealed class InlineProgress(Action<ProgressEvent> onReport) : IProgress<ProgressEvent>
{
    public void Report(ProgressEvent value) => onReport(value);
}
