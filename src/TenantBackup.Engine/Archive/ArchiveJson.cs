using System.Text.Json;
using System.Text.Json.Serialization;

namespace TenantBackup.Engine.Archive;

/// <summary>How JSON entries are written and read: camelCase, indented, enums by name, UTF-8 without BOM.</summary>
internal static class ArchiveJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
