using System.Text.Json;

namespace TenantBackup.Engine.Archive;

/// <summary>How JSON entries are written and read: the engine's one JSON shape (<see cref="Internal.Json"/>), UTF-8 without BOM.</summary>
internal static class ArchiveJson
{
    public static JsonSerializerOptions Options => Internal.Json.Options;
}
