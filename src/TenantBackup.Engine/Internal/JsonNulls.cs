using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace TenantBackup.Engine.Internal;

/// <summary>
/// System.Text.Json (as of .NET 8) gives a constructor parameter it found no property for — a name damaged by one
/// flipped bit — null, whatever its nullable annotation says, and it keeps a JSON <c>null</c> in a list of non-null
/// items. A document read from an archive is therefore checked here against its own annotations, so that such damage is
/// refused as damage instead of surfacing later as a <see cref="NullReferenceException"/>.
/// </summary>
internal static class JsonNulls
{
    // Deeper than any document TenantBackup writes: a forged one cannot make the walk recurse without end.
    private const int MaxDepth = 16;

    // A manifest lists an entry per data chunk: the members of each type and their annotations are looked up once.
    private static readonly ConcurrentDictionary<Type, Member[]> Members = new();

    private sealed record Member(PropertyInfo Property, string JsonName, NullabilityInfo Nullability);

    /// <summary>
    /// The JSON path (<c>$.tables[2].foreignKeys[0].columns</c>) of the first null where the type says there is none,
    /// or null when there is none. Only TenantBackup's own types are walked, through their settable properties.
    /// </summary>
    public static string? FirstMissing(object document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return CheckMembers(document, "$", 0);
    }

    private static Member[] MembersOf(Type type)
    {
        var context = new NullabilityInfoContext();
        return type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null && p.GetIndexParameters().Length == 0)
            .Select(p => new Member(p, $"{char.ToLowerInvariant(p.Name[0])}{p.Name[1..]}", context.Create(p)))
            .ToArray();
    }

    private static string? CheckMembers(object value, string path, int depth)
    {
        foreach (var member in Members.GetOrAdd(value.GetType(), MembersOf))
        {
            var memberPath = $"{path}.{member.JsonName}";
            if (Check(member.Property.GetValue(value), member.Nullability, memberPath, depth + 1) is { } missing)
            {
                return missing;
            }
        }

        return null;
    }

    private static string? Check(object? value, NullabilityInfo info, string path, int depth)
    {
        if (value is null)
        {
            return info.ReadState == NullabilityState.NotNull ? path : null;
        }

        if (depth > MaxDepth || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return null;
        }

        if (value is IEnumerable items and not IDictionary)
        {
            var item = info.ElementType ?? (info.GenericTypeArguments.Length == 1 ? info.GenericTypeArguments[0] : null);
            if (item is null)
            {
                return null;
            }

            var index = 0;
            foreach (var element in items)
            {
                if (Check(element, item, $"{path}[{index++}]", depth + 1) is { } missing)
                {
                    return missing;
                }
            }

            return null;
        }

        var ours = value.GetType().Namespace?.StartsWith("TenantBackup.Engine", StringComparison.Ordinal) == true;
        return ours ? CheckMembers(value, path, depth) : null;
    }
}
