using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using TenantBackup.Engine;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell;

/// <summary>
/// Runs when the module is imported and removed. The engine and its dependencies (Npgsql, Microsoft.Extensions.*,
/// System.Diagnostics.DiagnosticSource) live in the module's <c>dependencies/</c> folder, where neither pwsh nor .NET look;
/// when this assembly first needs the engine, the handler added here loads it into the module's own load context, which
/// takes every dependency it has a file for from that folder. So a session that already loaded another Npgsql or
/// Microsoft.Extensions version, for another module, still works, and that module keeps its own copy.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    // Runspaces of one process share the load contexts and the accelerator table: the last one to remove the module
    // takes them away, not the first (Import-Module -Force removes the module before it imports it again).
    private static readonly object _gate = new();
    private static int _imports;

    /// <summary>Lets the default load context find the engine through the module's own one; names the engine's types.</summary>
    public void OnImport()
    {
        lock (_gate)
        {
            _imports++;
            EngineLoadContext.Attach(AssemblyLoadContext.Default);
            EngineTypeNames.Register(EngineAssembly());
        }
    }

    /// <summary>
    /// Once no runspace has the module any more, stops answering for the engine and removes its type names; what was already
    /// loaded stays (a load context here cannot be unloaded).
    /// </summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (_gate)
        {
            if (_imports > 0 && --_imports > 0)
            {
                return;
            }

            EngineTypeNames.Unregister(EngineAssembly());
            EngineLoadContext.Detach(AssemblyLoadContext.Default);
        }
    }

    // Its own method: binding the engine type while OnImport is compiled would come before the handler is there.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Assembly EngineAssembly() => typeof(BackupInfo).Assembly;
}
