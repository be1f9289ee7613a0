using System.Text;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// The <c>&lt;archive&gt;.sha256</c> file beside an archive, in <c>sha256sum</c> format, so <c>sha256sum -c</c> checks it.
/// </summary>
internal static class Sha256File
{
    /// <summary>Appended to the archive's path.</summary>
    public const string Extension = ".sha256";

    private const int HexLength = 64;

    /// <summary>The sidecar's path for <paramref name="archivePath"/>.</summary>
    public static string PathFor(string archivePath) => archivePath + Extension;

    /// <summary>Writes <c>&lt;sha256&gt;  &lt;archive file name&gt;</c>, replacing any old sidecar in one step.</summary>
    public static async Task WriteAsync(string archivePath, string sha256, CancellationToken cancellationToken)
    {
        string fileName = Path.GetFileName(archivePath);
        if (!IsHex(sha256))
        {
            throw new ArgumentException("Not a lowercase SHA-256 hex string.", nameof(sha256));
        }

        // sha256sum escapes such names with a leading backslash; archive names never have them, so refuse instead.
        if (fileName.Length == 0 || fileName.AsSpan().IndexOfAny('\\', '\n', '\r') >= 0)
        {
            throw new ArgumentException($"'{fileName}' cannot be written in sha256sum format.", nameof(archivePath));
        }

        string path = PathFor(archivePath);
        string temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, $"{sha256}  {fileName}\n", new UTF8Encoding(false), cancellationToken)
            .ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// The SHA-256 the sidecar of <paramref name="archivePath"/> records, or null when there is no sidecar.
    /// A sidecar that is malformed or names another file is a <see cref="ErrorCode.ChecksumMismatch"/> error.
    /// </summary>
    public static async Task<string?> ReadAsync(string archivePath, CancellationToken cancellationToken)
    {
        string path = PathFor(archivePath);
        if (!File.Exists(path))
        {
            return null;
        }

        string content = await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
        return Parse(content, Path.GetFileName(archivePath), path);
    }

    /// <summary>The hash in <paramref name="content"/>, checked to be for <paramref name="archiveFileName"/>.</summary>
    internal static string Parse(string content, string archiveFileName, string sidecarPath)
    {
        string line = content.TrimEnd('\n', '\r');
        // "<hash> <mode><name>": mode is ' ' (text) or '*' (binary).
        if (line.Length < HexLength + 3 || line.Contains('\n', StringComparison.Ordinal) || line[HexLength] != ' '
            || line[HexLength + 1] is not (' ' or '*') || !IsHex(line[..HexLength].ToLowerInvariant()))
        {
            throw new TenantBackupException(
                ErrorCode.ChecksumMismatch, $"{sidecarPath} is not a sha256sum line for one file; recreate it or remove it.", sidecarPath);
        }

        string named = line[(HexLength + 2)..];
        if (!string.Equals(named, archiveFileName, StringComparison.Ordinal))
        {
            throw new TenantBackupException(
                ErrorCode.ChecksumMismatch, $"{sidecarPath} is the checksum of '{named}', not of '{archiveFileName}'.", sidecarPath);
        }

        return line[..HexLength].ToLowerInvariant();
    }

    private static bool IsHex(string value) =>
        value.Length == HexLength && !value.AsSpan().ContainsAnyExcept("0123456789abcdef");
}
