using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Repository;
using TenantBackup.Tests.Archive;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.Restore;

/// <summary>
/// Encrypted backups against a real database: a round trip with a key file and with a passphrase, the wrong key and no
/// key refused before anything changes, tampering caught, no readable row data in the file, and verify and sync with
/// and without the key.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class EncryptedRestoreTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_key_file_backup_restores_every_row_and_its_index_entry_names_the_key_id_only()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        string keyFile = Path.Combine(scratch.Folder(), "tenant.key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(secret));
        using var key = EncryptionKey.FromKeyFile(keyFile);
        var backup = await BackupAsync(scratch, 1, key);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        var others = await TenantData.RowsOutsideAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);

        using var sameKey = EncryptionKey.FromKeyFile(keyFile);
        var result = await RestoreScratch.RestoreAsync(scratch.Request(backup) with { Encryption = sameKey });

        TenantData.AssertEqual(backedUp, await TenantData.RowsAsync(connection, 1), "tenant 1 after the restore");
        TenantData.AssertEqual(others, await TenantData.RowsOutsideAsync(connection, 1), "other tenants and shared tables");
        Assert.True(backup.Encrypted);
        Assert.Equal("aes-256-gcm", backup.Encryption);
        Assert.Matches("^[0-9a-f]{32}$", backup.KeyId);
        Assert.EndsWith(".tar.zst.tbenc", backup.Path, StringComparison.Ordinal);

        // The safety backup holds the same tenant: it is encrypted with the same key file, so the same key id.
        var index = BackupRepository.Open(scratch.Repository).List();
        var safety = index.Single(b => b.Id == result.PreRestoreBackupId);
        Assert.Equal(backup.KeyId, safety.KeyId);
        Assert.EndsWith(".tbenc", safety.Path, StringComparison.Ordinal);

        string indexText = await File.ReadAllTextAsync(scratch.IndexPath);
        using var document = JsonDocument.Parse(indexText);
        var entry = document.RootElement.GetProperty("backups").EnumerateArray().Single(e => e.GetProperty("id").GetString() == backup.Id);
        Assert.Equal("aes-256-gcm", entry.GetProperty("encryption").GetString());
        Assert.Equal(backup.KeyId, entry.GetProperty("keyId").GetString());
        Assert.DoesNotContain(Convert.ToBase64String(secret), indexText, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(secret), indexText, StringComparison.Ordinal);

        // The sidecar is over the encrypted file, so the standard tool still checks it.
        string sidecar = Path.GetFileName(backup.Path) + ".sha256";
        await TenantBackup.Tests.Archive.Cli.MustRunAsync("sha256sum", ["-c", sidecar], workingDirectory: scratch.Repository);
    }

    [Fact]
    public async Task The_wrong_key_or_none_is_DecryptionFailed_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        using var key = NewKey();
        var backup = await BackupAsync(scratch, 1, key);
        await using (var connection = await scratch.OpenAsync())
        {
            await TenantChanges.ApplyAsync(connection, 1);
        }

        var before = await scratch.StateAsync();
        using var wrong = NewKey();
        using var passphrase = EncryptionKey.FromPassphrase("not the key");

        var withWrong = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with { Encryption = wrong });
        var withPassphrase = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup) with { Encryption = passphrase });
        var withNone = await RestoreScratch.RestoreFailsAsync(scratch.Request(backup));

        Assert.Equal(ErrorCode.DecryptionFailed, withWrong.Code);
        Assert.Contains("does not match", withWrong.Message, StringComparison.Ordinal);
        Assert.Contains(backup.KeyId!, withWrong.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.DecryptionFailed, withPassphrase.Code);
        Assert.Equal(ErrorCode.DecryptionFailed, withNone.Code);
        Assert.Contains("no key was given", withNone.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task A_passphrase_backup_restores_and_its_header_asks_for_600000_PBKDF2_iterations()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        using var passphrase = EncryptionKey.FromPassphrase("tenant 1 — correct horse battery staple");
        var backup = await BackupAsync(scratch, 1, passphrase);
        await using var connection = await scratch.OpenAsync();
        var backedUp = await TenantData.RowsAsync(connection, 1);
        await TenantChanges.ApplyAsync(connection, 1);

        using var typedAgain = EncryptionKey.FromPassphrase("tenant 1 — correct horse battery staple");
        await RestoreScratch.RestoreAsync(scratch.Request(backup) with { Encryption = typedAgain, NoPreBackup = true });

        TenantData.AssertEqual(backedUp, await TenantData.RowsAsync(connection, 1), "tenant 1 after the restore");
        byte[] header = new byte[116];
        await using (var file = File.OpenRead(backup.Path))
        {
            await file.ReadExactlyAsync(header);
        }

        Assert.Equal(1, header[10]); // PBKDF2-HMAC-SHA256
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16)) >= 600_000);
        Assert.Contains(header.AsSpan(20, 16).ToArray(), b => b != 0);
    }

    [Fact]
    public async Task No_row_data_is_readable_in_an_encrypted_archive()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        using var key = NewKey();
        await using var connection = await scratch.OpenAsync();
        string known = await Sql.ScalarAsync<string>(
            connection, "SELECT email FROM public.customers WHERE tenant_id = 1 AND email IS NOT NULL ORDER BY id LIMIT 1");
        byte[] needle = Encoding.UTF8.GetBytes(known);

        var plain = await BackupAsync(scratch, 1, key: null, Compression.None);
        var encrypted = await BackupAsync(scratch, 1, key, Compression.None);

        Assert.True((await File.ReadAllBytesAsync(plain.Path)).AsSpan().IndexOf(needle) >= 0, $"'{known}' should be in the plain archive");
        Assert.True(
            (await File.ReadAllBytesAsync(encrypted.Path)).AsSpan().IndexOf(needle) < 0, $"'{known}' is readable in the encrypted archive");
        Assert.EndsWith(".tar.tbenc", encrypted.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_chunk_is_ArchiveCorrupt_with_the_right_key_and_changes_nothing()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        using var key = NewKey();
        var backup = await BackupAsync(scratch, 1, key);

        // A copy outside the index with a sidecar that matches the change: only the envelope can notice.
        string copy = Path.Combine(scratch.Folder(), Path.GetFileName(backup.Path));
        byte[] bytes = await File.ReadAllBytesAsync(backup.Path);
        bytes[116 + 40] ^= 0x10;
        await File.WriteAllBytesAsync(copy, bytes);
        await Integrity.Damage.ResealAsync(copy);
        var before = await scratch.StateAsync();

        var error = await RestoreScratch.RestoreFailsAsync(new RestoreRequest
        {
            ConnectionString = scratch.ConnectionString,
            ArchivePath = copy,
            Repository = scratch.Repository,
            Encryption = key,
        });

        Assert.Equal(ErrorCode.ArchiveCorrupt, error.Code);
        Assert.Contains("fails authentication", error.Message, StringComparison.Ordinal);
        await scratch.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Verify_checks_everything_with_the_key_only_the_file_hash_without_it_and_a_wrong_key_is_unreadable_not_corrupt()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        using var key = NewKey();
        var backup = await BackupAsync(scratch, 1, key);
        using var wrong = NewKey();

        var full = await VerifyAsync(scratch, backup, key);
        var outer = await VerifyAsync(scratch, backup, null);
        var mismatched = await VerifyAsync(scratch, backup, wrong);

        Assert.Equal(IntegrityStatus.Valid, full.Status);
        Assert.All(full.Checks, c => Assert.Equal(CheckOutcome.Passed, c.Outcome));
        Assert.Contains(full.Checks, c => c.Name == IntegrityChecks.Decryption);

        Assert.Equal(IntegrityStatus.Valid, outer.Status);
        Assert.Equal(CheckOutcome.Passed, Check(outer, IntegrityChecks.Sha256File).Outcome);
        Assert.Equal(CheckOutcome.Passed, Check(outer, IntegrityChecks.Sha256Index).Outcome);
        string[] skipped =
        [
            IntegrityChecks.Decryption, IntegrityChecks.Manifest, IntegrityChecks.Entries, IntegrityChecks.Metadata,
            IntegrityChecks.Schema,
        ];
        foreach (var name in skipped)
        {
            Assert.Equal(CheckOutcome.Skipped, Check(outer, name).Outcome);
            Assert.Contains("encrypted", Check(outer, name).Message, StringComparison.Ordinal);
        }

        Assert.Equal(IntegrityStatus.Unreadable, mismatched.Status);
        Assert.Equal(CheckOutcome.Failed, Check(mismatched, IntegrityChecks.Decryption).Outcome);
        Assert.Contains("does not match", Check(mismatched, IntegrityChecks.Decryption).Message, StringComparison.Ordinal);
        Assert.Equal(CheckOutcome.Passed, Check(mismatched, IntegrityChecks.Sha256File).Outcome);
        Assert.Equal(BackupStatus.Available, BackupRepository.Open(scratch.Repository).List().Single().Status);

        // Damage to the file is still found without the key, by the outer hash.
        byte[] bytes = await File.ReadAllBytesAsync(backup.Path);
        bytes[^3] ^= 1;
        await File.WriteAllBytesAsync(backup.Path, bytes);
        Assert.Equal(IntegrityStatus.Corrupt, (await VerifyAsync(scratch, backup, null)).Status);
    }

    [Fact]
    public async Task Sync_adopts_an_encrypted_orphan_only_with_its_key_and_records_the_key_id()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        using var key = NewKey();
        var backup = await BackupAsync(scratch, 1, key);
        await File.WriteAllTextAsync(scratch.IndexPath, """{ "schemaVersion": 1, "backups": [] }""");

        var withoutKey = await IndexSync.RunAsync(
            new IndexSyncRequest { Repository = scratch.Repository, Apply = true }, CancellationToken.None);
        var orphan = Assert.Single(withoutKey);
        Assert.False(orphan.Applied);
        Assert.Contains("encrypted", orphan.Action, StringComparison.Ordinal);
        Assert.Empty(BackupRepository.Open(scratch.Repository).List());

        var withKey = await IndexSync.RunAsync(
            new IndexSyncRequest { Repository = scratch.Repository, Apply = true, Encryption = key }, CancellationToken.None);
        Assert.True(Assert.Single(withKey).Applied);
        var adopted = Assert.Single(BackupRepository.Open(scratch.Repository).List());
        Assert.Equal(backup.Id, adopted.Id);
        Assert.Equal(backup.KeyId, adopted.KeyId);
        Assert.True(adopted.Encrypted);
    }

    private static Task<BackupInfo> BackupAsync(
        RestoreScratch scratch, int tenant, EncryptionKey? key, Compression compression = Compression.Zstd) =>
        new BackupEngine().BackupAsync(
            new BackupRequest
            {
                ConnectionString = scratch.ConnectionString,
                Tenant = tenant.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Repository = scratch.Repository,
                Compression = compression,
                CompressionExplicit = true,
                Encryption = key,
            },
            null,
            CancellationToken.None);

    private static async Task<IntegrityResult> VerifyAsync(RestoreScratch scratch, BackupInfo backup, EncryptionKey? key) =>
        Assert.Single(await new IntegrityEngine().VerifyAsync(
            new IntegrityRequest { Repository = scratch.Repository, Ids = [backup.Id], Encryption = key }, null, CancellationToken.None));

    private static IntegrityCheck Check(IntegrityResult result, string name) => result.Checks.Single(c => c.Name == name);

    private static EncryptionKey NewKey() => EncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
}
