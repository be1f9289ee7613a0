using System.Diagnostics;
using System.Security.Cryptography;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Integrity;
using TenantBackup.Engine.Restore;
using TenantBackup.Tests.Infrastructure;
using TenantBackup.Tests.Restore;
using Xunit;
using Xunit.Abstractions;

namespace TenantBackup.Tests.Hostile;

/// <summary>
/// Real archives damaged thousands of ways, each given a matching <c>.sha256</c> (as a forger would) so that the checks
/// inside the archive are the ones that must hold: every case ends corrupt or, when the damage was harmless, valid;
/// never another exception, never a hang, never a large allocation, never a change to the database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ArchiveFuzzTests(PostgresFixture fixture, ITestOutputHelper output)
{
    /// <summary>Raise it for a soak: <c>TENANTBACKUP_FUZZ_CASES=200000</c>, and a <c>TENANTBACKUP_FUZZ_SEED</c> of your own.</summary>
    private static readonly int VerifyCases = Setting("TENANTBACKUP_FUZZ_CASES", 10_200);
    private static readonly int Seed = Setting("TENANTBACKUP_FUZZ_SEED", 20261122);
    private const int RestoreCases = 150;
    private const string Corrupt = "ArchiveCorrupt";
    private const string Verifies = "verifies";
    private const string Restores = "restores identically";
    private const long CaseAllocationLimit = 64L * 1024 * 1024;
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Ten_thousand_mutated_archives_verify_as_corrupt_or_valid_and_nothing_else()
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        SeedArchive[] seeds =
            [await tenant.SeedAsync(Compression.Zstd), await tenant.SeedAsync(Compression.Gzip), await tenant.SeedAsync(Compression.None)];
        // Thousands of small files: in memory where the machine has a RAM disk, so the disk's speed does not count.
        string work = tenant.Folder("tb-fuzz-verify-", inMemory: true);
        var tally = new FuzzTally();
        var random = new Random(Seed);
        var watch = Stopwatch.StartNew();
        long largest = 0;
        string largestCase = "";
        var planting = new Stopwatch();

        for (int i = 0; i < VerifyCases; i++)
        {
            SeedArchive seed = seeds[i % seeds.Length];
            Mutant mutant = ArchiveMutator.Mutate(seed, random);
            planting.Start();
            string path = await PlantAsync(work, seed, mutant.File);
            planting.Stop();
            long before = GC.GetTotalAllocatedBytes();
            string? outcome = await VerifyOutcomeAsync(path, work, mutant, i, tally);
            long allocated = GC.GetTotalAllocatedBytes() - before;
            if (allocated > largest)
            {
                (largest, largestCase) = (allocated, $"#{i} {mutant.Label} of {seed.FileName}");
            }

            if (outcome is not null)
            {
                tally.Add(mutant.Label, outcome);
            }
        }

        output.WriteLine($"seed {Seed}: {tally.Total} verifications in {watch.Elapsed.TotalSeconds:F1} s " +
            $"(writing the files: {planting.Elapsed.TotalSeconds:F1} s); " +
            $"largest allocation by one case {largest / 1024} KiB ({largestCase})");
        output.WriteLine(tally.Describe());
        Assert.True(tally.Unexpected.Count == 0, tally.Describe());
        Assert.True(tally.Count(Corrupt) > VerifyCases * 9 / 10, tally.Describe());
        Assert.True(largest < CaseAllocationLimit, $"One verification allocated {largest} bytes.");
    }

    /// <summary>
    /// Random flips rarely land in the JSON entries, where a flipped bit can rename a field or change a value and still be
    /// valid JSON; this walks every byte of them with the flips that keep text readable (letter case, one value bit).
    /// </summary>
    [Fact]
    public async Task Every_byte_of_the_json_entries_flipped_verifies_as_corrupt_or_valid_and_nothing_else()
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        SeedArchive seed = await tenant.SeedAsync(Compression.None);
        string work = tenant.Folder("tb-fuzz-json-", inMemory: true);
        var tally = new FuzzTally();
        RawTar tar = RawTar.Parse(seed.Tar);
        int index = 0;
        foreach (var (entry, at) in tar.Entries.Select((e, i) => (e, i)).Where(x => x.e.Name.EndsWith(".json", StringComparison.Ordinal)))
        {
            int dataStart = entry.HeaderOffset + RawTar.Block;
            int dataLength = (int)RawTar.DataSize(entry);
            foreach (byte bit in (byte[])[0x01, 0x20])
            {
                for (int offset = dataStart; offset < dataStart + dataLength; offset++)
                {
                    byte[] bytes = (byte[])entry.Bytes.Clone();
                    bytes[offset] ^= bit;
                    var entries = tar.Entries.ToList();
                    entries[at] = entry with { Bytes = bytes };
                    byte[] file = [.. entries.SelectMany(e => e.Bytes), .. tar.Tail];
                    var mutant = new Mutant($"bit 0x{bit:x2} flipped in {entry.Name}", ArchiveMutator.PlainLayer, file);
                    string path = await PlantAsync(work, seed, file);
                    if (await VerifyOutcomeAsync(path, work, mutant, index++, tally) is { } outcome)
                    {
                        tally.Add(mutant.Label, outcome);
                    }
                }
            }
        }

        output.WriteLine(tally.Describe());
        Assert.True(tally.Unexpected.Count == 0, tally.Describe());
        Assert.True(tally.Count(Corrupt) > 0, tally.Describe());
    }

    [Fact]
    public async Task A_sample_of_mutated_archives_is_refused_by_restore_or_restores_identically_and_the_database_never_changes()
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        SeedArchive[] seeds = [await tenant.SeedAsync(Compression.Zstd), await tenant.SeedAsync(Compression.None)];
        string work = tenant.Folder("tb-fuzz-restore-");
        string restoredFiles = Path.Combine(tenant.Folder("tb-fuzz-files-"), "tenant-1");
        string fingerprint = await tenant.FingerprintAsync();
        var tally = new FuzzTally();
        var random = new Random(4242);

        for (int i = 0; i < RestoreCases; i++)
        {
            SeedArchive seed = seeds[i % seeds.Length];
            Mutant mutant = ArchiveMutator.Mutate(seed, random);
            string path = await PlantAsync(work, seed, mutant.File);
            var request = new RestoreRequest
            {
                ConnectionString = tenant.ConnectionString,
                ArchivePath = path,
                Repository = work,
                NoPreBackup = true,
                FilesPath = restoredFiles,
            };
            try
            {
                await new RestoreEngine().RestoreAsync(request, null, CancellationToken.None).WaitAsync(CaseTimeout);
                Assert.Equal(FolderTree.Of(tenant.Files), FolderTree.Of(restoredFiles));
                tally.Add(mutant.Label, Restores);
            }
            catch (TenantBackupException e) when (e.Code == ErrorCode.ArchiveCorrupt)
            {
                tally.Add(mutant.Label, Corrupt);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                tally.Fail(mutant.Label, i, e.ToString());
            }

            Assert.True(fingerprint == await tenant.FingerprintAsync(), $"Case #{i} ({mutant.Label}) changed the database.");
        }

        output.WriteLine(tally.Describe());
        Assert.True(tally.Unexpected.Count == 0, tally.Describe());
        Assert.True(tally.Count(Corrupt) > RestoreCases / 2, tally.Describe());
    }

    public static TheoryData<string> Bombs() =>
    [
        "1 GiB of newlines from 32 KiB as a data entry",
        "a zstd frame declaring 2^62 bytes",
        "a zstd frame asking for a 2 GiB window",
        "a 1 GiB string in manifest.json",
        "a PAX header declaring 1 GiB",
    ];

    [Theory]
    [MemberData(nameof(Bombs))]
    public async Task A_bomb_is_corrupt_in_bounded_time_and_memory_for_verify_and_restore(string bomb)
    {
        await using var tenant = await SmallTenant.CreateAsync(fixture);
        SeedArchive seed = await tenant.SeedAsync(Compression.Zstd);
        string work = tenant.Folder("tb-fuzz-bomb-");
        const long GiB = 1L << 30;
        byte[] archive = bomb switch
        {
            "1 GiB of newlines from 32 KiB as a data entry" =>
                Replacing(seed, ArchiveLayout.DataPrefix, GiB, [], ZstdFrames.Rle(GiB, (byte)'\n')),
            "a zstd frame declaring 2^62 bytes" =>
                Replacing(seed, ArchiveLayout.DataPrefix, 1 << 20, [], ZstdFrames.Rle(1 << 20, (byte)'\n', declaredSize: 1L << 62)),
            "a zstd frame asking for a 2 GiB window" =>
                Replacing(seed, ArchiveLayout.DataPrefix, 1 << 20, [], ZstdFrames.Rle(1 << 20, (byte)'\n', windowLog: 31)),
            "a 1 GiB string in manifest.json" =>
                Replacing(seed, ArchiveLayout.ManifestJson, GiB, "{\"format\":\""u8.ToArray(), ZstdFrames.Rle(GiB - 11, (byte)'a')),
            _ => ArchiveMutator.Compress([.. PaxHeader(seed, GiB), .. seed.Tar], Compression.Zstd),
        };
        Assert.True(archive.Length < 100_000, $"the bomb is {archive.Length} bytes");
        string path = await PlantAsync(work, seed, archive);
        string fingerprint = await tenant.FingerprintAsync();
        var watch = Stopwatch.StartNew();
        long allocated = GC.GetTotalAllocatedBytes();

        var verified = await new IntegrityEngine().VerifyAsync(new IntegrityRequest { Paths = [path], Repository = work }, null, default)
            .WaitAsync(CaseTimeout);
        var refused = await Assert.ThrowsAsync<TenantBackupException>(() => new RestoreEngine().RestoreAsync(
            new RestoreRequest { ConnectionString = tenant.ConnectionString, ArchivePath = path, Repository = work, SkipFiles = true },
            null,
            CancellationToken.None).WaitAsync(CaseTimeout));

        allocated = GC.GetTotalAllocatedBytes() - allocated;
        output.WriteLine($"{bomb}: {archive.Length} bytes, verify and restore refused it in {watch.Elapsed.TotalSeconds:F1} s, " +
            $"allocating {allocated / (1024 * 1024)} MiB; {string.Join(" ", Assert.Single(verified).Problems)} | {refused.Message}");
        Assert.Equal(IntegrityStatus.Corrupt, Assert.Single(verified).Status);
        Assert.Equal(ErrorCode.ArchiveCorrupt, refused.Code);
        Assert.True(allocated < 2 * CaseAllocationLimit, $"{allocated} bytes allocated");
        Assert.Equal(fingerprint, await tenant.FingerprintAsync());
    }

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int value) && value > 0 ? value : fallback;

    /// <summary>Writes the archive and a <c>.sha256</c> that matches it.</summary>
    private static async Task<string> PlantAsync(string folder, SeedArchive seed, byte[] bytes)
    {
        string path = Path.Combine(folder, seed.FileName);
        await File.WriteAllBytesAsync(path, bytes);
        await File.WriteAllTextAsync(Sha256File.PathFor(path), $"{Convert.ToHexStringLower(SHA256.HashData(bytes))}  {seed.FileName}\n");
        return path;
    }

    private static async Task<string?> VerifyOutcomeAsync(string path, string repository, Mutant mutant, int index, FuzzTally tally)
    {
        using var cancel = new CancellationTokenSource(CaseTimeout);
        IntegrityResult result;
        try
        {
            var request = new IntegrityRequest { Paths = [path], Repository = repository };
            result = (await Task.Run(() => new IntegrityEngine().VerifyAsync(request, null, cancel.Token)).WaitAsync(CaseTimeout)).Single();
        }
        catch (Exception e)
        {
            tally.Fail(mutant.Label, index, e.ToString());
            return null;
        }

        var failed = result.Checks.Where(c => c.Outcome == CheckOutcome.Failed).Select(c => c.Name).ToList();
        if (result.Status == IntegrityStatus.Valid)
        {
            return Verifies;
        }

        if (result.Status != IntegrityStatus.Corrupt || failed.Contains(IntegrityChecks.Sha256File) || failed.Count == 0)
        {
            tally.Fail(mutant.Label, index, $"{result.Status}: {string.Join(" ", result.Problems)}");
            return null;
        }

        return Corrupt;
    }

    /// <summary>
    /// The seed with its first entry named <paramref name="prefix"/>... declaring <paramref name="size"/> bytes: <paramref name="head"/>
    /// then what <paramref name="frame"/> decodes to. The tar before and after are compressed as frames of their own around it.
    /// </summary>
    private static byte[] Replacing(SeedArchive seed, string prefix, long size, byte[] head, byte[] frame)
    {
        var tar = RawTar.Parse(seed.Tar);
        int index = tar.Entries.FindIndex(e => e.Name.StartsWith(prefix, StringComparison.Ordinal));
        var entry = RawTar.WithSize(tar.Entries[index], size);
        byte[] before =
            [.. tar.Entries.Take(index).SelectMany(e => e.Bytes), .. entry.Bytes.AsSpan(0, entry.HeaderOffset + RawTar.Block), .. head];
        byte[] after = [.. tar.Entries.Skip(index + 1).SelectMany(e => e.Bytes), .. tar.Tail];
        return [.. ArchiveMutator.Compress(before, Compression.Zstd), .. frame, .. ArchiveMutator.Compress(after, Compression.Zstd)];
    }

    /// <summary>A PAX extended header block that declares <paramref name="size"/> bytes of records, and holds none.</summary>
    private static byte[] PaxHeader(SeedArchive seed, long size)
    {
        var first = RawTar.Parse(seed.Tar).Entries[0];
        byte[] header = first.Bytes.AsSpan(first.HeaderOffset, RawTar.Block).ToArray();
        header[156] = (byte)'x';
        return RawTar.WithSize(new RawTar.Entry("pax", header, 0), size).Bytes;
    }
}
