using System.Security.Cryptography;
using TenantBackup.Engine.Archive;
using TenantBackup.Engine.Repository;
using TenantBackup.Engine.Restore;

namespace TenantBackup.Engine.Integrity;

// The checks of one archive: the file's hashes, the streaming pass over its entries, its two JSON headers, the test restore.
public sealed partial class IntegrityEngine
{
    private sealed record Head(BackupMetadata? Metadata, SchemaDocument? Schema, string? MetadataError, string? SchemaError);

    private async Task<IntegrityResult> CheckAsync(
        Target target, IntegrityRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        if (target.Path is null)
        {
            var where = target.Repository?.Root ?? "the repository";
            return Result(target, null, IntegrityStatus.Missing, [Failed(IntegrityChecks.File,
                $"No backup with id {target.Id} in {where}; list them with Get-TenantBackup (tenantbackup list), " +
                "or give the archive's path.")]);
        }

        if (!File.Exists(target.Path))
        {
            var why = target.Entry is null
                ? ""
                : " though the index lists it; Sync-BackupIndex (tenantbackup sync) reports what else is gone";
            return Result(
                target, null, IntegrityStatus.Missing, [Failed(IntegrityChecks.File, $"The archive {target.Path} does not exist{why}.")]);
        }

        var checks = new List<IntegrityCheck> { Passed(IntegrityChecks.File, $"{target.Path} is there.") };
        Head? head = null;
        try
        {
            head = request.Quick
                ? await QuickChecksAsync(target, checks, cancellationToken).ConfigureAwait(false)
                : await FullChecksAsync(target, request.Encryption, checks, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException
            || e is TenantBackupException { Code: ErrorCode.IOError or ErrorCode.CompressionUnavailable or ErrorCode.ArchiveNotFound })
        {
            return Result(
                target, null, IntegrityStatus.Unreadable, [Failed(IntegrityChecks.File, $"{target.Path} cannot be read: {e.Message}")]);
        }

        // A key that does not fit says nothing about the archive's soundness: it could not be read, that is all.
        var status = checks.Exists(c => c.Outcome == CheckOutcome.Failed && c.Name != IntegrityChecks.Decryption) ? IntegrityStatus.Corrupt
            : checks.Exists(c => c.Outcome == CheckOutcome.Failed) ? IntegrityStatus.Unreadable
            : IntegrityStatus.Valid;
        RestoreResult? rehearsal = null;
        if (request.RestoreTest)
        {
            (var check, rehearsal) = status == IntegrityStatus.Valid
                ? await RestoreTestAsync(target, request, progress, cancellationToken).ConfigureAwait(false)
                : (Skipped(IntegrityChecks.RestoreTest, "The archive is not valid, so it would not be restored."), null);
            checks.Add(check);
        }

        return Result(target, head?.Metadata, status, checks, rehearsal);
    }

    private static async Task<Head?> QuickChecksAsync(Target target, List<IntegrityCheck> checks, CancellationToken cancellationToken)
    {
        string path = target.Path!;
        var sidecarProblems = new List<string>();
        string? recorded = null;
        try
        {
            recorded = await Sha256File.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (TenantBackupException e) when (e.Code == ErrorCode.ChecksumMismatch)
        {
            sidecarProblems.Add(e.Message);
        }

        string sha256;
        long size;
        var file = new FileStream(
            path,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            bufferSize: 1024 * 1024,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            sha256 = Convert.ToHexString(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false)).ToLowerInvariant();
            size = file.Length;
        }

        if (recorded is not null && !string.Equals(recorded, sha256, StringComparison.Ordinal))
        {
            sidecarProblems.Add($"The file's SHA-256 is {sha256}, but {Sha256File.PathFor(path)} records {recorded}.");
        }

        checks.Add(SidecarCheck(path, sha256, File.Exists(Sha256File.PathFor(path)), sidecarProblems));
        checks.Add(IndexCheck(target.Entry, sha256, size));
        string[] unread = [IntegrityChecks.Manifest, IntegrityChecks.Entries, IntegrityChecks.Metadata, IntegrityChecks.Schema];
        foreach (var name in unread)
        {
            checks.Add(Skipped(name, "Quick check: the entries were not read."));
        }

        return null;
    }

    private static async Task<Head?> FullChecksAsync(
        Target target, EncryptionKey? key, List<IntegrityCheck> checks, CancellationToken cancellationToken)
    {
        string path = target.Path!;
        var verification = await ArchiveVerifier.VerifyAsync(path, key, cancellationToken).ConfigureAwait(false);
        checks.Add(SidecarCheck(
            path,
            verification.Sha256,
            verification.SidecarPresent,
            verification.Problems.Where(p => p.Code == ErrorCode.ChecksumMismatch).Select(p => p.Message).ToList()));
        checks.Add(IndexCheck(target.Entry, verification.Sha256, verification.Size));
        if (verification.KeyId is { } keyId)
        {
            checks.Add(verification.KeyProblem is null
                ? Passed(IntegrityChecks.Decryption, $"AES-256-GCM; the key given matches key id {keyId}.")
                : key is null ? Skipped(IntegrityChecks.Decryption, $"{verification.KeyProblem.TrimEnd('.')}.")
                : Failed(IntegrityChecks.Decryption, verification.KeyProblem));
        }

        if (verification.KeyProblem is not null)
        {
            // The outer checksum is all that can be checked without the key; the rest is neither sound nor damaged.
            string why = key is null
                ? "The archive is encrypted and no key was given: only its file checksum was checked."
                : "The key given does not match the archive's: only its file checksum was checked.";
            string[] unread = [IntegrityChecks.Manifest, IntegrityChecks.Entries, IntegrityChecks.Metadata, IntegrityChecks.Schema];
            foreach (var name in unread)
            {
                checks.Add(Skipped(name, why));
            }

            return null;
        }

        var damage = verification.Problems.Where(p => p.Code != ErrorCode.ChecksumMismatch).ToLookup(p => p.Entry switch
        {
            ArchiveLayout.ManifestJson => IntegrityChecks.Manifest,
            ArchiveLayout.TenantBackupJson => IntegrityChecks.Metadata,
            ArchiveLayout.SchemaJson => IntegrityChecks.Schema,
            _ => IntegrityChecks.Entries,
        });
        var manifest = verification.Manifest;
        var manifestProblems = damage[IntegrityChecks.Manifest].Select(p => p.Message).ToList();
        var metadataProblems = damage[IntegrityChecks.Metadata].Select(p => p.Message).ToList();
        var schemaProblems = damage[IntegrityChecks.Schema].Select(p => p.Message).ToList();
        Head? head = null;
        if (metadataProblems.Count == 0 && schemaProblems.Count == 0)
        {
            head = await ReadHeadAsync(path, key, cancellationToken).ConfigureAwait(false);
            if (manifest is not null && head.Metadata is { } metadata
                && !string.Equals(manifest.BackupId, metadata.Id, StringComparison.Ordinal))
            {
                manifestProblems.Add($"It names backup {manifest.BackupId}, but {ArchiveLayout.TenantBackupJson} names {metadata.Id}.");
            }

            AddIfNotNull(metadataProblems, head.MetadataError);
            AddIfNotNull(schemaProblems, head.SchemaError);
            metadataProblems.AddRange(MetadataDisagreements(head.Metadata, target.Entry));
            schemaProblems.AddRange(SchemaDisagreements(head.Schema, head.Metadata));
        }

        checks.Add(Outcome(IntegrityChecks.Manifest, manifestProblems,
            $"{ArchiveLayout.ManifestJson} lists {manifest?.Entries.Count} entries, {manifest?.Totals.Rows} rows."));
        checks.Add(Outcome(IntegrityChecks.Entries, damage[IntegrityChecks.Entries].Select(p => p.Message).ToList(),
            "Every entry matches the manifest's size, SHA-256 and rows, in order."));
        checks.Add(Outcome(IntegrityChecks.Metadata, metadataProblems,
            $"{ArchiveLayout.TenantBackupJson}: backup {head?.Metadata?.Id} of tenant {head?.Metadata?.Tenant.Value}, " +
            $"{ArchiveLayout.FormatId}."));
        checks.Add(Outcome(IntegrityChecks.Schema, schemaProblems,
            $"{ArchiveLayout.SchemaJson}: {head?.Schema?.Tables.Count} tables, tenant column {head?.Schema?.TenantColumn}."));
        return head;
    }

    private static async Task<Head> ReadHeadAsync(string path, EncryptionKey? key, CancellationToken cancellationToken)
    {
        var reader = ArchiveReader.Open(
            new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous), path, key);
        await using (reader.ConfigureAwait(false))
        {
            BackupMetadata? metadata = null;
            try
            {
                var first = await reader.NextEntryAsync(cancellationToken).ConfigureAwait(false);
                metadata = await reader.ReadJsonAsync<BackupMetadata>(first!, cancellationToken).ConfigureAwait(false);
            }
            catch (TenantBackupException e) when (e.Code == ErrorCode.ArchiveCorrupt)
            {
                return new Head(null, null, e.Message, null);
            }

            try
            {
                var second = await reader.NextEntryAsync(cancellationToken).ConfigureAwait(false);
                var schema = await reader.ReadJsonAsync<SchemaDocument>(second!, cancellationToken).ConfigureAwait(false);
                return new Head(metadata, schema, null, null);
            }
            catch (TenantBackupException e) when (e.Code == ErrorCode.ArchiveCorrupt)
            {
                return new Head(metadata, null, null, e.Message);
            }
        }
    }

    private static IEnumerable<string> MetadataDisagreements(BackupMetadata? metadata, IndexEntry? entry)
    {
        if (metadata is null)
        {
            yield break;
        }

        if (!string.Equals(metadata.Format, ArchiveLayout.FormatId, StringComparison.Ordinal))
        {
            yield return $"Its format is '{metadata.Format}', not {ArchiveLayout.FormatId}.";
        }

        if (string.IsNullOrEmpty(metadata.Id) || string.IsNullOrEmpty(metadata.Tenant.Value)
            || string.IsNullOrEmpty(metadata.Tenant.Column))
        {
            yield return "It lacks the backup id, the tenant value or the tenant column.";
        }

        if (entry is not null && !string.Equals(entry.Id, metadata.Id, StringComparison.OrdinalIgnoreCase))
        {
            yield return $"It names backup {metadata.Id}, but the index lists this file as backup {entry.Id}.";
        }

        if (entry is not null && !string.Equals(entry.Tenant, metadata.Tenant.Value, StringComparison.Ordinal))
        {
            yield return $"It holds tenant {metadata.Tenant.Value}, but the index says {entry.Tenant}.";
        }
    }

    private static IEnumerable<string> SchemaDisagreements(SchemaDocument? schema, BackupMetadata? metadata)
    {
        if (schema is null)
        {
            yield break;
        }

        if (schema.Tables.Count == 0)
        {
            yield return "It lists no tables.";
        }

        if (SchemaDocumentChecks.FirstProblem(schema) is { } problem)
        {
            yield return $"It cannot be used: {problem}.";
        }

        if (metadata is not null && !string.Equals(schema.TenantColumn, metadata.Tenant.Column, StringComparison.Ordinal))
        {
            yield return $"Its tenant column is '{schema.TenantColumn}', " +
                $"but {ArchiveLayout.TenantBackupJson} says '{metadata.Tenant.Column}'.";
        }
    }

    private async Task<(IntegrityCheck, RestoreResult?)> RestoreTestAsync(
        Target target, IntegrityRequest request, IProgress<ProgressEvent>? progress, CancellationToken cancellationToken)
    {
        var restore = new RestoreRequest
        {
            ConnectionString = request.ConnectionString ?? string.Empty,
            ArchivePath = target.Path,
            Repository = target.Repository?.Root,
            Encryption = request.Encryption,
        };
        try
        {
            var result = await new RestoreEngine(_log).RehearseAsync(restore, progress, cancellationToken).ConfigureAwait(false);
            return (Passed(IntegrityChecks.RestoreTest,
                $"Would restore {result.Tables.Count} tables into {result.Database}: " +
                $"{result.Inserted} inserted, {result.Updated} updated, " +
                $"{result.Deleted} deleted, {result.Remapped} remapped (rolled back)."), result);
        }
        catch (TenantBackupException e) when (!cancellationToken.IsCancellationRequested)
        {
            return (Failed(IntegrityChecks.RestoreTest, $"{e.Code}: {e.Message}"), null);
        }
    }

    private static IntegrityCheck SidecarCheck(string path, string sha256, bool present, IReadOnlyList<string> problems) =>
        !present && problems.Count == 0
            ? Failed(IntegrityChecks.Sha256File,
                $"{Sha256File.PathFor(path)} is missing; the file's SHA-256 is {sha256}. " +
                "If the index's hash matches, recreate it with sha256sum.")
            : Outcome(IntegrityChecks.Sha256File, problems, $"SHA-256 {sha256} matches {Path.GetFileName(Sha256File.PathFor(path))}.");

    private static IntegrityCheck IndexCheck(IndexEntry? entry, string sha256, long size)
    {
        if (entry is null)
        {
            return Skipped(IntegrityChecks.Sha256Index, "The repository's index does not list this file.");
        }

        var problems = new List<string>();
        if (!string.IsNullOrEmpty(entry.Sha256) && !string.Equals(entry.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"The file's SHA-256 is {sha256}, but the index records {entry.Sha256} for backup {entry.Id}.");
        }

        if (entry.Size != size)
        {
            problems.Add($"The file has {size} bytes, but the index records {entry.Size} for backup {entry.Id}.");
        }

        return Outcome(IntegrityChecks.Sha256Index, problems, $"SHA-256 and size match the index entry of backup {entry.Id}.");
    }

    private static IntegrityResult Result(
        Target target,
        BackupMetadata? metadata,
        IntegrityStatus status,
        List<IntegrityCheck> checks,
        RestoreResult? rehearsal = null) => new()
    {
        Id = target.Entry?.Id ?? metadata?.Id ?? target.Id,
        Path = target.Path,
        Tenant = target.Entry?.Tenant ?? metadata?.Tenant.Value,
        Status = status,
        Checks = checks,
        RestoreTest = rehearsal,
        VerifiedAt = DateTimeOffset.UtcNow,
        Indexed = target.Entry is not null,
    };

    private static IntegrityCheck Outcome(string name, IReadOnlyList<string> problems, string passed) =>
        problems.Count == 0 ? Passed(name, passed) : Failed(name, string.Join(" ", problems));

    private static IntegrityCheck Passed(string name, string message) =>
        new() { Name = name, Outcome = CheckOutcome.Passed, Message = message };

    private static IntegrityCheck Failed(string name, string message) =>
        new() { Name = name, Outcome = CheckOutcome.Failed, Message = message };

    private static IntegrityCheck Skipped(string name, string message) =>
        new() { Name = name, Outcome = CheckOutcome.Skipped, Message = message };

    private static void AddIfNotNull(List<string> list, string? value)
    {
        if (value is not null)
        {
            list.Add(value);
        }
    }
}
