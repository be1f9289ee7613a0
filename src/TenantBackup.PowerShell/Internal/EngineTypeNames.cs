using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace TenantBackup.PowerShell.Internal;

/// <summary>
/// PowerShell finds a type literal such as <c>[TenantBackup.Engine.RestoreMode]</c> only among the default load context's
/// assemblies, and the engine lives in the module's own. Each public engine type is therefore registered under its full name
/// as a type accelerator (the way about_Classes_and_Modules exports classes), and unregistered when the module is removed.
/// </summary>
internal static class EngineTypeNames
{
    // Internal to PowerShell, with public static members; a PowerShell without it just has no engine type literals.
    private static readonly Type? _accelerators = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");

    /// <summary>
    /// Registers every exported type of <paramref name="engine"/> whose name no one else has taken, unless the engine is in
    /// the default context (a host that has it on its own path), where PowerShell finds its types anyway.
    /// </summary>
    public static void Register(Assembly engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (_accelerators is null || AssemblyLoadContext.GetLoadContext(engine) == AssemblyLoadContext.Default
            || Registered() is not { } registered)
        {
            return;
        }

        foreach (var type in engine.GetExportedTypes())
        {
            if (type.FullName is { } name && !registered.ContainsKey(name))
            {
                _accelerators.GetMethod("Add", [typeof(string), typeof(Type)])?.Invoke(null, [name, type]);
            }
        }
    }

    /// <summary>Removes the names <see cref="Register"/> added for <paramref name="engine"/>, and only those.</summary>
    public static void Unregister(Assembly engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (_accelerators is null || Registered() is not { } registered)
        {
            return;
        }

        foreach (var type in engine.GetExportedTypes())
        {
            if (type.FullName is { } name && registered.TryGetValue(name, out var current) && current == type)
            {
                _accelerators.GetMethod("Remove", [typeof(string)])?.Invoke(null, [name]);
            }
        }
    }

    /// <summary>The accelerators PowerShell knows now, by name.</summary>
    public static IReadOnlyDictionary<string, Type>? Registered()
        => _accelerators?.GetProperty("Get", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
            as IReadOnlyDictionary<string, Type>;
}
