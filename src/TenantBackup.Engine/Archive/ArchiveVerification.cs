namespace TenantBackup.Engine.Archive;

/// <summary>What <see cref="ArchiveVerifier.VerifyAsync(string, EncryptionKey?, CancellationToken)"/> found.</summary>
internal sealed class ArchiveVerification
{
    /// <summary>The archive verified.</summary>
    public required string Path { get; init; }

    /// <summary>SHA-256 of the archive file as read, lowercase hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Size of the archive file in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>Whether a <c>.sha256</c> sidecar was there to compare with.</summary>
    public required bool SidecarPresent { get; init; }

    /// <summary>The manifest, when it could be read.</summary>
    public ArchiveManifest? Manifest { get; init; }

    /// <summary>Everything wrong; empty for a sound archive.</summary>
    public required IReadOnlyList<ArchiveProblem> Problems { get; init; }

    /// <summary>The key id of an encrypted archive; null when it is not encrypted.</summary>
    public string? KeyId { get; init; }

    /// <summary>
    /// Why an encrypted archive's entries were not read: no key was given, or it does not match the key id. Only the
    /// file's checksum was checked then; null when the entries were read.
    /// </summary>
    public string? KeyProblem { get; init; }

    /// <summary>True when nothing is wrong and every entry was read.</summary>
    public bool IsValid => Problems.Count == 0 && KeyProblem is null;
}

/// <summary>One thing wrong with an archive.</summary>
/// <param name="Code"><see cref="ErrorCode.ArchiveCorrupt"/> or <see cref="ErrorCode.ChecksumMismatch"/>.</param>
/// <param name="Entry">The entry concerned, if any.</param>
/// <param name="Message">What is wrong, for people.</param>
internal sealed record ArchiveProblem(ErrorCode Code, string? Entry, string Message);
