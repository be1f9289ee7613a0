using System.Buffers;
using System.Security.Cryptography;
using TenantBackup.Engine.Archive.Encryption;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// Checks an archive in one streaming pass: the file against its <c>.sha256</c> sidecar, and every entry's size,
/// SHA-256 and rows against <c>manifest.json</c>, which must be there and last, with the entries in the format's
/// order. Damage is reported in the result, not thrown.
/// </summary>
internal static class ArchiveVerifier
{
    private const int BufferSize = 1024 * 1024;

    private sealed record Seen(string Name, long Size, string Sha256, long Rows);

    /// <summary>Verifies the archive at <paramref name="archivePath"/>, which must not be encrypted.</summary>
    /// <inheritdoc cref="VerifyAsync(string, EncryptionKey?, CancellationToken)"/>
    public static Task<ArchiveVerification> VerifyAsync(string archivePath, CancellationToken cancellationToken) =>
        VerifyAsync(archivePath, key: null, cancellationToken);

    /// <summary>
    /// Verifies the archive at <paramref name="archivePath"/>. An encrypted archive without its key (or with another)
    /// gets only its file checksum checked: <see cref="ArchiveVerification.KeyProblem"/> says why the entries were not.
    /// </summary>
    /// <exception cref="TenantBackupException">
    /// <see cref="ErrorCode.ArchiveNotFound"/>, <see cref="ErrorCode.CompressionUnavailable"/> or <see cref="ErrorCode.IOError"/>:
    /// the archive could not be checked at all.
    /// </exception>
    public static async Task<ArchiveVerification> VerifyAsync(string archivePath, EncryptionKey? key, CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(archivePath);
        if (!File.Exists(path))
        {
            throw new TenantBackupException(ErrorCode.ArchiveNotFound, $"The archive {path} does not exist.", path);
        }

        var problems = new List<ArchiveProblem>();
        bool sidecarPresent = File.Exists(Sha256File.PathFor(path));
        string? expectedSha256 = null;
        try
        {
            expectedSha256 = await Sha256File.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (TenantBackupException ex) when (ex.Code == ErrorCode.ChecksumMismatch)
        {
            problems.Add(new ArchiveProblem(ErrorCode.ChecksumMismatch, null, ex.Message));
        }

        var seen = new List<Seen>();
        var pass = await ReadAsync(path, key, seen, problems, cancellationToken).ConfigureAwait(false);
        if (expectedSha256 is not null && !string.Equals(expectedSha256, pass.Sha256, StringComparison.Ordinal))
        {
            problems.Add(new ArchiveProblem(
                ErrorCode.ChecksumMismatch,
                null,
                $"The file's SHA-256 is {pass.Sha256}, but {Sha256File.PathFor(path)} records {expectedSha256}."));
        }

        // Entries that could not be decrypted were not read: there is nothing to hold against the manifest.
        if (pass.KeyProblem is null)
        {
            CheckAgainstManifest(pass.Manifest, seen, problems);
        }

        return new ArchiveVerification
        {
            Path = path,
            Sha256 = pass.Sha256,
            Size = pass.Size,
            SidecarPresent = sidecarPresent,
            Manifest = pass.Manifest,
            Problems = problems,
            KeyId = pass.KeyId,
            KeyProblem = pass.KeyProblem,
        };
    }

    private sealed record Pass(string Sha256, long Size, ArchiveManifest? Manifest, string? KeyId, string? KeyProblem);

    /// <summary>One streaming pass: the entries decoded, and the file's SHA-256 over every byte whatever happened.</summary>
    private static async Task<Pass> ReadAsync(
        string path, EncryptionKey? key, List<Seen> seen, List<ArchiveProblem> problems, CancellationToken cancellationToken)
    {
        EnvelopeHeader? header = null;
        try
        {
            header = ArchiveEncryption.ReadHeader(path);
        }
        catch (TenantBackupException ex) when (ex.Code == ErrorCode.ArchiveCorrupt)
        {
            problems.Add(new ArchiveProblem(ErrorCode.ArchiveCorrupt, null, ex.Message));
            return await HashOnlyAsync(path, keyProblem: null, cancellationToken).ConfigureAwait(false);
        }

        if (header is not null && key is null)
        {
            return await HashOnlyAsync(path, $"{path} is encrypted (key id {header.KeyId}) and no key was given", cancellationToken)
                .ConfigureAwait(false);
        }

        var file = new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            var hashing = new HashingStream(file, leaveOpen: true);
            ArchiveReader reader;
            try
            {
                reader = ArchiveReader.Open(hashing, path, key);
            }
            catch (TenantBackupException ex) when (ex.Code == ErrorCode.DecryptionFailed)
            {
                // The reader disposed the hashing layer; the file is hashed on its own instead.
                return await HashOnlyAsync(path, ex.Message, cancellationToken).ConfigureAwait(false) with { KeyId = header?.KeyId };
            }

            ArchiveManifest? manifest = null;
            await using (reader.ConfigureAwait(false))
            {
                try
                {
                    manifest = await ReadEntriesAsync(reader, seen, problems, cancellationToken).ConfigureAwait(false);
                    await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (TenantBackupException ex) when (ex.Code == ErrorCode.ArchiveCorrupt)
                {
                    problems.Add(new ArchiveProblem(ErrorCode.ArchiveCorrupt, null, ex.Message));
                }

                // Wherever decoding stopped, the file's checksum covers all of it.
                await DrainAsync(hashing, cancellationToken).ConfigureAwait(false);
                return new Pass(hashing.Sha256, hashing.BytesHashed, manifest, reader.KeyId, null);
            }
        }
    }

    private static async Task<Pass> HashOnlyAsync(string path, string? keyProblem, CancellationToken cancellationToken)
    {
        var file = new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            var hash = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
            var header = keyProblem is null ? null : ArchiveEncryption.ReadHeader(path);
            return new Pass(Convert.ToHexString(hash).ToLowerInvariant(), file.Length, null, header?.KeyId, keyProblem);
        }
    }

    private static async Task<ArchiveManifest?> ReadEntriesAsync(
        ArchiveReader reader, List<Seen> seen, List<ArchiveProblem> problems, CancellationToken cancellationToken)
    {
        // Pooled: a repository check or a fuzz run verifies thousands of archives, and each buffer would be a large-object allocation.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            return await ReadEntriesAsync(reader, seen, problems, buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<ArchiveManifest?> ReadEntriesAsync(
        ArchiveReader reader, List<Seen> seen, List<ArchiveProblem> problems, byte[] buffer, CancellationToken cancellationToken)
    {
        ArchiveManifest? manifest = null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        while (await reader.NextEntryAsync(cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (manifest is not null)
            {
                problems.Add(new ArchiveProblem(
                    ErrorCode.ArchiveCorrupt, entry.Name, $"Entry {entry.Name} follows {ArchiveLayout.ManifestJson}, which must be last."));
            }

            if (string.Equals(entry.Name, ArchiveLayout.ManifestJson, StringComparison.Ordinal) && manifest is null)
            {
                manifest = await reader.ReadJsonAsync<ArchiveManifest>(entry, cancellationToken).ConfigureAwait(false);
                continue;
            }

            long size = 0;
            long rows = 0;
            int read;
            while ((read = await entry.Data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                rows += buffer.AsSpan(0, read).Count((byte)'\n');
                size += read;
            }

            seen.Add(new Seen(entry.Name, size, Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant(), rows));
        }

        return manifest;
    }

    /// <summary>Reads <paramref name="stream"/> to its end, so a hashing stream under it sees every byte of the file.</summary>
    internal static async Task DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CheckAgainstManifest(ArchiveManifest? manifest, List<Seen> seen, List<ArchiveProblem> problems)
    {
        void Corrupt(string? entry, string message) => problems.Add(new ArchiveProblem(ErrorCode.ArchiveCorrupt, entry, message));

        string[] expectedFirst = [ArchiveLayout.TenantBackupJson, ArchiveLayout.SchemaJson];
        for (int i = 0; i < expectedFirst.Length; i++)
        {
            if (seen.Count <= i || !string.Equals(seen[i].Name, expectedFirst[i], StringComparison.Ordinal))
            {
                Corrupt(expectedFirst[i], $"Entry {i + 1} must be {expectedFirst[i]}.");
            }
        }

        if (manifest is null)
        {
            Corrupt(
                ArchiveLayout.ManifestJson,
                $"{ArchiveLayout.ManifestJson} is missing: the backup did not complete or the file is cut short.");
            return;
        }

        if (!string.Equals(manifest.Format, ArchiveLayout.FormatId, StringComparison.Ordinal))
        {
            Corrupt(ArchiveLayout.ManifestJson, $"The manifest's format is '{manifest.Format}', not {ArchiveLayout.FormatId}.");
        }

        var actual = new Dictionary<string, Seen>(StringComparer.Ordinal);
        foreach (Seen entry in seen)
        {
            if (!actual.TryAdd(entry.Name, entry))
            {
                Corrupt(entry.Name, $"Entry {entry.Name} appears more than once.");
            }
        }

        int problemsBefore = problems.Count;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (ManifestEntry expected in manifest.Entries)
        {
            listed.Add(expected.Name);
            if (!actual.TryGetValue(expected.Name, out Seen? found))
            {
                Corrupt(expected.Name, $"Entry {expected.Name} is in the manifest but not in the archive.");
            }
            else if (found.Size != expected.Size || !string.Equals(found.Sha256, expected.Sha256, StringComparison.Ordinal))
            {
                Corrupt(expected.Name, $"Entry {expected.Name} differs from the manifest: {found.Size} bytes, SHA-256 {found.Sha256}; "
                    + $"expected {expected.Size} bytes, {expected.Sha256}.");
            }
            else if (expected.Rows is long rows && rows != found.Rows)
            {
                Corrupt(expected.Name, $"Entry {expected.Name} holds {found.Rows} rows; the manifest says {rows}.");
            }
        }

        foreach (Seen extra in seen.Where(s => !listed.Contains(s.Name)))
        {
            Corrupt(extra.Name, $"Entry {extra.Name} is in the archive but not in the manifest.");
        }

        // Only meaningful when the same entries are on both sides.
        if (problems.Count == problemsBefore
            && !seen.Select(s => s.Name).SequenceEqual(manifest.Entries.Select(e => e.Name), StringComparer.Ordinal))
        {
            Corrupt(null, "The entries are not in the manifest's order.");
        }

        ManifestTotals totals = manifest.Totals;
        if (totals.Entries != manifest.Entries.Count || totals.Bytes != manifest.Entries.Sum(e => e.Size)
            || totals.Rows != manifest.Entries.Sum(e => e.Rows ?? 0)
            || totals.Tables != manifest.Entries
                .Where(e => e.Table is not null).Select(e => e.Table).Distinct(StringComparer.Ordinal).Count())
        {
            Corrupt(ArchiveLayout.ManifestJson, "The manifest's totals do not add up.");
        }
    }
}
