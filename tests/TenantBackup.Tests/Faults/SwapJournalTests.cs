using System.Text.Json;
using Npgsql;
using TenantBackup.Engine.Logging;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.FrontEnds;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// The settling of a swap journal left by a restore killed between the swap of its tenant folder and COMMIT, for each
/// fate of its transaction as the server reports it: committed, aborted (mid-swap or swapped), unknown, another database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SwapJournalTests(PostgresFixture fixture)
{
    private const string Database = "PostgreSQL test:5432/tenants";

    [Theory]
    [InlineData(true, true)] // committed: the restored folder stays, the old one goes
    [InlineData(false, true)] // aborted after the swap: the restored folder goes, the old one comes back
    [InlineData(false, false)] // aborted between the two renames: the old one comes back
    public async Task SettlesBy_TheTransactionsFate(bool commit, bool stagedIn)
    {
        using var folder = new TempFolder();
        var (destination, staging, old) = Layout(folder.Path, stagedIn);
        await using var connection = await fixture.OpenConnectionAsync(await DatabaseAsync());
        var transaction = await TransactionAsync(connection, commit);
        WriteJournal(staging, transaction, Database, destination, old);
        var log = new WarningLog();

        await FilesRestore.RecoverAsync([Target(destination)], connection, Database, EngineLogger.For(log), CancellationToken.None);

        Assert.Equal(commit ? "restored" : "old", File.ReadAllText(Path.Combine(destination, "which.txt")));
        Assert.Equal([destination], Directory.GetFileSystemEntries(folder.Path));
        Assert.True(log.Has("did not finish its swap"), log.ToString());
    }

    [Fact]
    public async Task LeavesAlone_AJournalOfAnotherDatabase_OrOfATransactionTheServerDoesNotKnow()
    {
        using var folder = new TempFolder();
        var (destination, staging, old) = Layout(folder.Path, stagedIn: true);
        await using var connection = await fixture.OpenConnectionAsync(await DatabaseAsync());
        var log = new WarningLog();

        WriteJournal(staging, await TransactionAsync(connection, commit: false), "PostgreSQL elsewhere:5432/tenants", destination, old);
        var before = Directory.GetFileSystemEntries(folder.Path).Order(StringComparer.Ordinal).ToList();
        await FilesRestore.RecoverAsync([Target(destination)], connection, Database, EngineLogger.For(log), CancellationToken.None);
        Assert.True(log.Has("not this one"), log.ToString());

        WriteJournal(staging, long.MaxValue / 2, Database, destination, old);
        await FilesRestore.RecoverAsync([Target(destination)], connection, Database, EngineLogger.For(log), CancellationToken.None);
        Assert.True(log.Has("cannot tell whether transaction"), log.ToString());

        Assert.Equal(before, Directory.GetFileSystemEntries(folder.Path).Order(StringComparer.Ordinal).ToList());
        Assert.Equal("restored", File.ReadAllText(Path.Combine(destination, "which.txt")));
    }

    private async Task<string> DatabaseAsync() => await fixture.CreateDatabaseAsync();

    /// <summary>A tenant folder as a killed swap left it: the old one renamed away, the staged one moved in or not.</summary>
    private static (string Destination, string Staging, string Old) Layout(string parent, bool stagedIn)
    {
        var destination = Path.Combine(parent, "files");
        var staging = destination + ".restore-abcd1234";
        var old = destination + ".pre-restore-20260101T000000Z";
        Directory.CreateDirectory(old);
        File.WriteAllText(Path.Combine(old, "which.txt"), "old");
        var restored = stagedIn ? destination : staging;
        Directory.CreateDirectory(restored);
        File.WriteAllText(Path.Combine(restored, "which.txt"), "restored");
        return (destination, staging, old);
    }

    private static FileRestoreTarget Target(string destination) => FilesRestore.Destinations(
        [new() { Source = destination, Entry = "files/01/" }], null).Single();

    private static void WriteJournal(string staging, long transaction, string database, string destination, string old) =>
        File.WriteAllText(
            staging + ".swap",
            JsonSerializer.Serialize(
                new { transaction, database, destination, staging, preRestore = old },
                new JsonSerializerOptions(JsonSerializerDefaults.Web)));

    /// <summary>A transaction that wrote nothing but has an id, committed or rolled back.</summary>
    private static async Task<long> TransactionAsync(NpgsqlConnection connection, bool commit)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("SELECT txid_current()", connection, transaction);
        var id = (long)(await command.ExecuteScalarAsync())!;
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }

        return id;
    }
}
