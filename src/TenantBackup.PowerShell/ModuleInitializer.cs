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
    /// <summary>Lets the default load context find the engine through the module's own one; names the engine's types.</summary>
    public void OnImport()
    {
        EngineLoadContext.Attach(AssemblyLoadContext.Default);
        EngineTypeNames.Register(EngineAssembly());
    }

    /// <summary>Stops answering for the engine; what was already loaded stays (a load context here cannot be unloaded).</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        EngineTypeNames.Unregister(EngineAssembly());
        EngineLoadContext.Detach(AssemblyLoadContext.Default);
    }

    // Its own method: binding the engine type while OnImport is compiled would come before the handler is there.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Assembly EngineAssembly() => typeof(BackupInfo).Assembly;
}
