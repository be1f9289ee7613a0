using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using TenantBackup.Engine.Logging;

namespace TenantBackup.PowerShell.Internal;

/// <summary>
/// The <c>-LogPath</c> file: JSON lines appended one whole line per write (timestamp in UTC, level, cmdlet, message; the
/// last line of an operation adds its outcome, <c>ok</c> or <c>error</c> with the error id), so a scheduled job leaves a
/// record that <c>Get-Content | ConvertFrom-Json</c> or any log shipper can read. Passwords never reach it: the ones the
/// command knows are masked wherever they appear, and so is any <c>Password=</c> of a connection string.
/// </summary>
internal sealed partial class RunLogFile : IDisposable
{
    /// <summary>What a masked secret reads as.</summary>
    public const string Mask = "********";

    // Quotes and non-ASCII text stay readable; the output is still valid JSON.
    private static readonly JsonWriterOptions _jsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly object _gate = new();
    private readonly FileStream _stream;
    private readonly string _cmdlet;
    private readonly List<string> _secrets = [];

    private RunLogFile(FileStream stream, string cmdlet, EngineLogLevel minimumLevel)
    {
        _stream = stream;
        _cmdlet = cmdlet;
        MinimumLevel = minimumLevel;
    }

    /// <summary>Entries below this level are not written.</summary>
    public EngineLogLevel MinimumLevel { get; }

    /// <summary>Opens (creating it if needed) the file at <paramref name="path"/> for appending.</summary>
    /// <exception cref="IOException">The file cannot be opened for writing.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public static RunLogFile Open(string path, string cmdlet, EngineLogLevel minimumLevel)
    {
        // Shared, so that two jobs logging to one file, or a tail -f, do not fail; each line goes out in one append.
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return new RunLogFile(stream, cmdlet, minimumLevel);
    }

    /// <summary>Masks <paramref name="secret"/> in every later line.</summary>
    public void AddSecret(string? secret)
    {
        if (!string.IsNullOrEmpty(secret))
        {
            lock (_gate)
            {
                _secrets.Add(secret);
            }
        }
    }

    /// <summary>Appends an entry of the running operation. Called from any thread.</summary>
    public void Write(EngineLogLevel level, string message)
    {
        if (level >= MinimumLevel)
        {
            Append(level, message, outcome: null, errorId: null);
        }
    }

    /// <summary>Appends an operation's last line: <c>ok</c>, or <c>error</c> with <paramref name="errorId"/>.</summary>
    public void Outcome(string message, string? errorId)
        => Append(errorId is null ? EngineLogLevel.Information : EngineLogLevel.Error, message, errorId is null ? "ok" : "error", errorId);

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stream.Dispose();
        }
    }

    /// <summary>The text with every secret and every connection-string password masked.</summary>
    internal static string Redact(string text, IEnumerable<string> secrets)
    {
        foreach (var secret in secrets.OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return PasswordSetting().Replace(text, "${key}=" + Mask);
    }

    private void Append(EngineLogLevel level, string message, string? outcome, string? errorId)
    {
        lock (_gate)
        {
            var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, _jsonOptions))
            {
                json.WriteStartObject();
                json.WriteString("timestamp", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
                json.WriteString("level", level.ToString());
                json.WriteString("cmdlet", _cmdlet);
                json.WriteString("message", Redact(message, _secrets));
                if (outcome is not null)
                {
                    json.WriteString("outcome", outcome);
                }

                if (errorId is not null)
                {
                    json.WriteString("errorId", errorId);
                }

                json.WriteEndObject();
            }

            buffer.WriteByte((byte)'\n');
            try
            {
                _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                _stream.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // A full disk must not fail the backup the log is about; the operation's own errors still reach the pipeline.
            }
        }
    }

    // Password=..., Pwd=... up to the next ';' (or a quoted value), as in Npgsql and libpq key/value strings.
    [GeneratedRegex(
        """(?<key>\b(?:password|pwd|psw))\s*=\s*(?:"[^"]*"|'[^']*'|[^;]*)""",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordSetting();
}
