using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TenantBackup.Cli.Output;

/// <summary>The <c>--json</c> form of results: the engine's objects, camelCase, indented, on stdout and nothing else.</summary>
internal static class JsonOutput
{
    /// <summary>The serializer settings of every <c>--json</c> output.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },

        // Read by scripts and people, never embedded in HTML: keep non-ASCII tenant names and '+' readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="value"/> as one JSON document followed by a newline.</summary>
    public static Task WriteAsync<T>(TextWriter stdout, T value)
        => stdout.WriteLineAsync(JsonSerializer.Serialize(value, Options));
}
