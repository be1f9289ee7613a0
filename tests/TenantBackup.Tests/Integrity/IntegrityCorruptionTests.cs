using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Integrity;
using TenantBackup.Tests.Archive;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;
using Xunit;
using static TenantBackup.Tests.Integrity.Damage;

namespace TenantBackup.Tests.Integrity;

/// <summary>
/// Each kind of damage to a real backup, found by the check it belongs to and by no other: a copy of the archive is
/// damaged outside the repository, so the index plays no part (its own check is skipped).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IntegrityCorruptionTests(PostgresFixture fixture)
{
    private const string File = IntegrityChecks.File;
    private const string Sidecar = IntegrityChecks.Sha256File;
    private const string Manifest = IntegrityChecks.Manifest;
    private const string Entries = IntegrityChecks.Entries;

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.None)]
    public async Task A_sound_backup_is_valid_and_every_check_says_what_it_saw(Compression compression)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1, compression: compression);
        using var temp = new TempFolder();

        var result = await VerifyPathAsync(CopyOut(backup.Path, temp), temp.Path);

        Assert.Equal(IntegrityStatus.Valid, result.Status);
        Assert.True(result.Passed);
        Assert.Empty(result.Problems);
        Assert.Equal(backup.Id, result.Id);
        Assert.Equal("1", result.Tenant);
        Assert.False(result.Indexed);
        Assert.Equal(
            [File, Sidecar, IntegrityChecks.Sha256Index, Manifest, Entries, IntegrityChecks.Metadata, IntegrityChecks.Schema],
            result.Checks.Select(c => c.Name));
        Assert.Equal(CheckOutcome.Skipped, Check(result, IntegrityChecks.Sha256Index).Outcome);
        Assert.Contains(backup.Id, Check(result, IntegrityChecks.Metadata).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Compression.None)]
    [InlineData(Compression.Zstd)]
    public async Task A_truncated_archive_is_corrupt_by_its_hash_its_entries_and_its_missing_manifest(Compression compression)
    {
        var result = await DamagedAsync(compression, path =>
        {
            byte[] bytes = System.IO.File.ReadAllBytes(path);
            System.IO.File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
            return Task.CompletedTask;
        });

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Contains("missing", Check(result, Manifest).Message, StringComparison.Ordinal);
        if (compression == Compression.None)
        {
            Assert.Equal([Entries, Manifest, Sidecar], Failed(result));
        }
        else
        {
            // One small zstd frame: nothing of it decodes, not even the first entries.
            Assert.Superset(new HashSet<string> { Entries, Manifest, Sidecar }, Failed(result).ToHashSet());
        }
    }

    [Fact]
    public async Task A_byte_flipped_in_the_middle_of_a_compressed_archive_is_corrupt()
    {
        var result = await DamagedAsync(Compression.Zstd, path =>
        {
            FlipAt(path, new FileInfo(path).Length / 2);
            return Task.CompletedTask;
        });

        // The file's hash always catches it. The checks inside may not: the middle of the stream can decode to a tar header
        // field TenantBackup does not read (mode, owner, times), where a changed byte changes no entry. The forged-sidecar
        // tests and the fuzz tests (Hostile/ArchiveFuzzTests) cover damage the inner checks must find.
        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Contains(Sidecar, Failed(result));
    }

    [Fact]
    public async Task A_byte_flipped_in_a_data_entry_of_a_plain_tar_fails_the_hash_and_that_entry()
    {
        var result = await DamagedAsync(Compression.None, path =>
        {
            FlipInFirstDataEntry(path);
            return Task.CompletedTask;
        });

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([Entries, Sidecar], Failed(result));
        Assert.Contains("data/", Check(result, Entries).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flipped_byte_with_a_forged_sidecar_is_still_found_in_the_entry()
    {
        var result = await DamagedAsync(Compression.None, async path =>
        {
            FlipInFirstDataEntry(path);
            await ResealAsync(path);
        });

        Assert.Equal([Entries], Failed(result));
    }

    [Fact]
    public async Task A_missing_manifest_fails_the_manifest_check()
    {
        var result = await DamagedAsync(
            Compression.None, path => RepackAsync(path, entries => entries.Where(e => e.Name != ArchiveLayout.ManifestJson)));

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([Manifest], Failed(result));
        Assert.Contains("missing", Check(result, Manifest).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_naming_another_backup_fails_the_manifest_check()
    {
        var result = await DamagedAsync(Compression.None, path => RepackAsync(path, entries => entries.Select(e =>
        {
            if (e.Name != ArchiveLayout.ManifestJson)
            {
                return e;
            }

            string json = Encoding.UTF8.GetString(e.Data);
            int at = json.IndexOf("\"backupId\": \"", StringComparison.Ordinal) + "\"backupId\": \"".Length;
            Assert.True(at > 20, json);
            return (e.Name, Encoding.UTF8.GetBytes(json[..at] + (json[at] == '0' ? '1' : '0') + json[(at + 1)..]));
        })));

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([Manifest], Failed(result));
        Assert.Contains(ArchiveLayout.TenantBackupJson, Check(result, Manifest).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_with_an_altered_checksum_fails_the_entry_it_no_longer_matches()
    {
        var result = await DamagedAsync(Compression.None, path => RepackAsync(path, entries => entries.Select(e =>
        {
            if (e.Name != ArchiveLayout.ManifestJson)
            {
                return e;
            }

            string json = Encoding.UTF8.GetString(e.Data);
            int at = json.IndexOf("\"sha256\": \"", StringComparison.Ordinal) + "\"sha256\": \"".Length;
            return (e.Name, Encoding.UTF8.GetBytes(json[..at] + (json[at] == 'a' ? 'b' : 'a') + json[(at + 1)..]));
        })));

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([IntegrityChecks.Metadata], Failed(result));
        Assert.Contains("differs from the manifest", Check(result, IntegrityChecks.Metadata).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_sidecar_fails_the_file_hash_check_alone()
    {
        var result = await DamagedAsync(Compression.Zstd, path =>
        {
            System.IO.File.Delete(Sha256File.PathFor(path));
            return Task.CompletedTask;
        });

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([Sidecar], Failed(result));
        Assert.Contains("missing", Check(result, Sidecar).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sidecar_that_names_another_file_fails_the_file_hash_check_alone()
    {
        var result = await DamagedAsync(Compression.Zstd, async path =>
        {
            string line = await System.IO.File.ReadAllTextAsync(Sha256File.PathFor(path));
            await System.IO.File.WriteAllTextAsync(Sha256File.PathFor(path), line[..66] + "another.tar.zst\n");
        });

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([Sidecar], Failed(result));
        Assert.Contains("another.tar.zst", Check(result, Sidecar).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entries_out_of_order_fail_the_entries_check()
    {
        var result = await DamagedAsync(Compression.None, path => RepackAsync(path, entries =>
        {
            int last = entries.Count - 2;
            (entries[last], entries[last - 1]) = (entries[last - 1], entries[last]);
            return entries;
        }));

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Equal([Entries], Failed(result));
        Assert.Contains("order", Check(result, Entries).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsafe_entry_name_fails_the_entries_check()
    {
        var result = await DamagedAsync(Compression.None, path => RepackAsync(path, entries =>
            entries.Take(entries.Count - 1).Append(("../outside.txt", "x"u8.ToArray())).Append(entries[^1])));

        Assert.Equal(IntegrityStatus.Corrupt, result.Status);
        Assert.Contains(Entries, Failed(result));
        Assert.Contains("unsafe name", Check(result, Entries).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_archive_is_Missing()
    {
        using var temp = new TempFolder();

        var result = await VerifyPathAsync(temp.File("gone.tar.zst"), temp.Path);

        Assert.Equal(IntegrityStatus.Missing, result.Status);
        Assert.Equal([File], Failed(result));
    }

    [Fact]
    public async Task Quick_checks_the_file_hash_only()
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1, compression: Compression.None);
        using var temp = new TempFolder();
        string copy = CopyOut(backup.Path, temp);

        var sound = await VerifyPathAsync(copy, temp.Path, quick: true);
        FlipInFirstDataEntry(copy);
        var flipped = await VerifyPathAsync(copy, temp.Path, quick: true);
        await ResealAsync(copy);
        var forged = await VerifyPathAsync(copy, temp.Path, quick: true);

        Assert.Equal(IntegrityStatus.Valid, sound.Status);
        Assert.All(new[] { Manifest, Entries, IntegrityChecks.Metadata, IntegrityChecks.Schema },
            name => Assert.Equal(CheckOutcome.Skipped, Check(sound, name).Outcome));
        Assert.Equal(IntegrityStatus.Corrupt, flipped.Status);
        Assert.Equal([Sidecar], Failed(flipped));
        Assert.Equal(IntegrityStatus.Valid, forged.Status);
        Assert.Equal(IntegrityStatus.Corrupt, (await VerifyPathAsync(copy, temp.Path)).Status);
    }

    private async Task<IntegrityResult> DamagedAsync(Compression compression, Func<string, Task> damage)
    {
        await using var scratch = await RestoreScratch.CreateAsync(fixture);
        var backup = await scratch.BackupAsync(1, compression: compression);
        using var temp = new TempFolder();
        string copy = CopyOut(backup.Path, temp);
        Assert.Equal(IntegrityStatus.Valid, (await VerifyPathAsync(copy, temp.Path)).Status);

        await damage(copy);

        return await VerifyPathAsync(copy, temp.Path);
    }
}
