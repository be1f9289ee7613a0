namespace TenantBackup.Engine.Integrity;

/// <summary>The state of one backup as <see cref="IntegrityEngine"/> found it.</summary>
public enum IntegrityStatus
{
    /// <summary>Every check that ran passed, or only the test restore failed (the archive itself is whole).</summary>
    Valid,

    /// <summary>The archive, its <c>.sha256</c> or its contents are damaged or disagree.</summary>
    Corrupt,

    /// <summary>The archive file (or the index entry named) does not exist.</summary>
    Missing,

    /// <summary>
    /// The archive could not be read at all: permissions, I/O errors, a compression this machine lacks, or a key that
    /// does not match an encrypted archive.
    /// </summary>
    Unreadable,
}

/// <summary>The outcome of one check.</summary>
public enum CheckOutcome
{
    /// <summary>The check ran and found nothing wrong.</summary>
    Passed,

    /// <summary>The check ran and found a problem.</summary>
    Failed,

    /// <summary>The check did not run (not asked for, or nothing to check against).</summary>
    Skipped,
}

/// <summary>One check of a backup: its name (see <see cref="IntegrityChecks"/>), outcome and what it found.</summary>
public sealed class IntegrityCheck
{
    /// <summary>The check's name, e.g. <c>sha256-file</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Passed, failed or skipped.</summary>
    public required CheckOutcome Outcome { get; init; }

    /// <summary>What the check found, for people.</summary>
    public required string Message { get; init; }
}

/// <summary>The names of the checks an <see cref="IntegrityResult"/> lists.</summary>
public static class IntegrityChecks
{
    /// <summary>The archive file is there.</summary>
    public const string File = "file";

    /// <summary>The file's SHA-256 matches its <c>.sha256</c> sidecar, which exists and names this file.</summary>
    public const string Sha256File = "sha256-file";

    /// <summary>The file's SHA-256 and size match the index entry.</summary>
    public const string Sha256Index = "sha256-index";

    /// <summary>
    /// Encrypted archives only: the key given matches the archive's key id (passed), none was given (skipped: the
    /// entry checks are skipped too), or it does not match (failed: the status is Unreadable, not Corrupt).
    /// </summary>
    public const string Decryption = "decryption";

    /// <summary><c>manifest.json</c> is there, last, of this format, and its totals add up.</summary>
    public const string Manifest = "manifest";

    /// <summary>Every entry is readable, safely named, in order, and matches the manifest's size, SHA-256 and rows.</summary>
    public const string Entries = "entries";

    /// <summary><c>tenantbackup.json</c> parses, comes first, and names the manifest's backup and this format.</summary>
    public const string Metadata = "metadata";

    /// <summary><c>schema.json</c> parses, comes second, and has the tenant column of <c>tenantbackup.json</c>.</summary>
    public const string Schema = "schema";

    /// <summary>A restore into the given database, rolled back, would succeed.</summary>
    public const string RestoreTest = "restore-test";
}

/// <summary>What a check of one backup found: Test-BackupIntegrity's and <c>tenantbackup verify</c>'s output.</summary>
public sealed class IntegrityResult
{
    /// <summary>The backup's id (from the index or the archive), when known.</summary>
    public string? Id { get; init; }

    /// <summary>Full path of the archive file checked.</summary>
    public string? Path { get; init; }

    /// <summary>The tenant value the backup holds, when known.</summary>
    public string? Tenant { get; init; }

    /// <summary>Valid, Corrupt, Missing or Unreadable.</summary>
    public required IntegrityStatus Status { get; init; }

    /// <summary>Every check, in the order they ran, with its outcome.</summary>
    public required IReadOnlyList<IntegrityCheck> Checks { get; init; }

    /// <summary>The messages of the failed checks; empty when all passed.</summary>
    public IReadOnlyList<string> Problems =>
        Checks.Where(c => c.Outcome == CheckOutcome.Failed).Select(c => $"{c.Name}: {c.Message}").ToList();

    /// <summary>True when the status is Valid and no check failed, the test restore included.</summary>
    public bool Passed => Status == IntegrityStatus.Valid && Checks.All(c => c.Outcome != CheckOutcome.Failed);

    /// <summary>What the rolled-back test restore did, table by table, when one ran and succeeded.</summary>
    public RestoreResult? RestoreTest { get; init; }

    /// <summary>When the check finished.</summary>
    public required DateTimeOffset VerifiedAt { get; init; }

    /// <summary>Whether the repository's index lists this backup (and so records the check).</summary>
    public bool Indexed { get; init; }
}
