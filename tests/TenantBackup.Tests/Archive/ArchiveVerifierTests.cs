using System.Formats.Tar;
using System.Text;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Archive;

public class ArchiveVerifierTests
{
    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task SoundArchive_HasNoProblems(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Empty(result.Problems);
        Assert.True(result.IsValid);
        Assert.True(result.SidecarPresent);
        Assert.Equal(archive.Summary.Sha256, result.Sha256);
        Assert.Equal(archive.Summary.CompressedSize, result.Size);
        Assert.Equal(SampleArchive.BackupId, result.Manifest!.BackupId);
    }

    [Fact]
    public async Task WithoutSidecar_IsValidAndSaysSo()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd);
        File.Delete(Sha256File.PathFor(archive.Path));

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.True(result.IsValid);
        Assert.False(result.SidecarPresent);
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task FlippedByteInTheMiddle_IsReported(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);
        bytes[bytes.Length / 2] ^= 0x04;
        await File.WriteAllBytesAsync(archive.Path, bytes);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ChecksumMismatch);
        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ArchiveCorrupt);
        Assert.Equal(bytes.Length, result.Size);
    }

    [Fact]
    public async Task ChangedRowInsideAChunk_IsReportedForThatEntry()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.None);
        File.Delete(Sha256File.PathFor(archive.Path));
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);
        int at = bytes.AsSpan().IndexOf("9999\t42\t"u8);
        bytes[at] = (byte)'8';
        await File.WriteAllBytesAsync(archive.Path, bytes);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        ArchiveProblem problem = Assert.Single(result.Problems);
        Assert.Equal(ErrorCode.ArchiveCorrupt, problem.Code);
        Assert.Equal(archive.Tables[0].Entries[^1], problem.Entry);
        Assert.Contains("differs from the manifest", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task TruncatedFile_IsReported(Compression compression)
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, compression);
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);
        await File.WriteAllBytesAsync(archive.Path, bytes[..(bytes.Length * 2 / 3)]);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ChecksumMismatch);
        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ArchiveCorrupt);
        Assert.Null(result.Manifest);
    }

    [Fact]
    public async Task TruncatedInsideTheLastZstdBytes_IsReportedWithoutSidecar()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd);
        File.Delete(Sha256File.PathFor(archive.Path));
        byte[] bytes = await File.ReadAllBytesAsync(archive.Path);
        await File.WriteAllBytesAsync(archive.Path, bytes[..^2]);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(result.Problems, p => p.Code == ErrorCode.ArchiveCorrupt);
    }

    [Fact]
    public async Task MissingManifest_IsReported()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.None);
        Repack(archive.Path, entries => entries.Where(e => e.Name != ArchiveLayout.ManifestJson));

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(
            result.Problems, p => p.Entry == ArchiveLayout.ManifestJson && p.Message.Contains("missing", StringComparison.Ordinal));
        Assert.Null(result.Manifest);
    }

    [Fact]
    public async Task ExtraEntryAndEntryAfterManifest_AreReported()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.None);
        File.Delete(Sha256File.PathFor(archive.Path));
        Repack(archive.Path, entries =>
            [.. entries.SkipLast(1), ("files/extra.txt", "x"u8.ToArray()), entries.Last(), ("files/late.txt", [])]);

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(
            result.Problems, p => p.Entry == "files/extra.txt" && p.Message.Contains("not in the manifest", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Entry == "files/late.txt" && p.Message.Contains("must be last", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MissingChunkAndWrongOrder_AreReported()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.None);
        File.Delete(Sha256File.PathFor(archive.Path));
        string dropped = archive.Tables[0].Entries[1];
        Repack(archive.Path, entries => entries.Where(e => e.Name != dropped));

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        Assert.Contains(result.Problems, p => p.Entry == dropped && p.Message.Contains("not in the archive", StringComparison.Ordinal));

        using var otherTemp = new TempFolder();
        SampleArchive.Written second = await SampleArchive.WriteAsync(otherTemp, Compression.None);
        File.Delete(Sha256File.PathFor(second.Path));
        Repack(second.Path, entries => [entries[1], entries[0], .. entries.Skip(2)]);

        ArchiveVerification swapped = await ArchiveVerifier.VerifyAsync(second.Path, default);

        Assert.Contains(swapped.Problems, p => p.Entry == ArchiveLayout.TenantBackupJson);
        Assert.Contains(swapped.Problems, p => p.Message.Contains("order", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AlteredSidecar_IsChecksumMismatch()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd);
        await File.WriteAllTextAsync(Sha256File.PathFor(archive.Path), $"{new string('0', 64)}  {Path.GetFileName(archive.Path)}\n");

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        ArchiveProblem problem = Assert.Single(result.Problems);
        Assert.Equal(ErrorCode.ChecksumMismatch, problem.Code);
        Assert.Contains(archive.Summary.Sha256, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SidecarOfAnotherFile_IsChecksumMismatch()
    {
        using var temp = new TempFolder();
        SampleArchive.Written archive = await SampleArchive.WriteAsync(temp, Compression.Zstd);
        await File.WriteAllTextAsync(Sha256File.PathFor(archive.Path), $"{archive.Summary.Sha256}  other.tar.zst\n");

        ArchiveVerification result = await ArchiveVerifier.VerifyAsync(archive.Path, default);

        ArchiveProblem problem = Assert.Single(result.Problems);
        Assert.Equal(ErrorCode.ChecksumMismatch, problem.Code);
        Assert.Contains("other.tar.zst", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingArchive_IsArchiveNotFound()
    {
        using var temp = new TempFolder();

        var ex = await Assert.ThrowsAsync<TenantBackupException>(() => ArchiveVerifier.VerifyAsync(temp.File("nope.tar.zst"), default));

        Assert.Equal(ErrorCode.ArchiveNotFound, ex.Code);
    }

    /// <summary>Rewrites a plain tar archive with its entries changed.</summary>
    private static void Repack(string path, Func<List<(string Name, byte[] Data)>, IEnumerable<(string Name, byte[] Data)>> change)
    {
        var entries = new List<(string Name, byte[] Data)>();
        using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                entries.Add((entry.Name, data.ToArray()));
            }
        }

        using var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax);
        foreach ((string name, byte[] data) in change(entries))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
    }
}
