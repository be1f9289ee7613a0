using System.Reflection;
using System.Runtime.Loader;

namespace TenantBackup.PowerShell.Internal;

/// <summary>
/// The module's private load context, named <c>TenantBackup</c>: it holds the engine and every assembly of the module's
/// <c>dependencies/</c> folder, and leaves everything else (the framework, System.Management.Automation) to the default
/// context. Only the engine's types are seen from outside, and those use nothing but framework types in their signatures.
/// </summary>
internal sealed class EngineLoadContext : AssemblyLoadContext
{
    /// <summary>The module's folder below which the engine and its dependencies are kept.</summary>
    public const string DependencyFolderName = "dependencies";

    /// <summary>The one assembly the module's cmdlets reference that is not the host's.</summary>
    public const string EngineAssemblyName = "TenantBackup.Engine";

    private static readonly object _gate = new();
    private static EngineLoadContext? _instance;

    private readonly string _folder;

    private EngineLoadContext(string folder)
        : base("TenantBackup", isCollectible: false)
    {
        _folder = folder;
    }

    /// <summary>The folder of the engine and its dependencies, next to this assembly.</summary>
    public static string DependencyFolder { get; } = Path.Combine(
        Path.GetDirectoryName(typeof(EngineLoadContext).Assembly.Location) ?? AppContext.BaseDirectory,
        DependencyFolderName);

    /// <summary>The context, created on first use; one per process, as the engine's statics must be.</summary>
    public static EngineLoadContext Instance
    {
        get
        {
            lock (_gate)
            {
                return _instance ??= new EngineLoadContext(DependencyFolder);
            }
        }
    }

    /// <summary>Makes <paramref name="host"/> (pwsh's default context) load the engine through this context.</summary>
    public static void Attach(AssemblyLoadContext host)
    {
        ArgumentNullException.ThrowIfNull(host);

        // Import-Module -Force runs the initializer again: one handler, however many imports.
        host.Resolving -= ResolveEngine;
        host.Resolving += ResolveEngine;
    }

    /// <summary>Undoes <see cref="Attach"/>.</summary>
    public static void Detach(AssemblyLoadContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        host.Resolving -= ResolveEngine;
    }

    /// <summary>
    /// The host's <see cref="AssemblyLoadContext.Resolving"/> handler: the engine, from this context, and nothing else, so that
    /// another module's request for, say, Npgsql is never answered with the module's private copy.
    /// </summary>
    public static Assembly? ResolveEngine(AssemblyLoadContext host, AssemblyName name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!string.Equals(name.Name, EngineAssemblyName, StringComparison.Ordinal)
            || !File.Exists(Path.Combine(DependencyFolder, EngineAssemblyName + ".dll")))
        {
            return null;
        }

        return Instance.LoadFromAssemblyName(name);
    }

    /// <summary>Whatever the folder has a file for comes from the folder; the rest is the default context's.</summary>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        ArgumentNullException.ThrowIfNull(assemblyName);
        if (string.IsNullOrEmpty(assemblyName.Name))
        {
            return null;
        }

        var path = Path.Combine(_folder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
