using System.Management.Automation;
using System.Runtime.Loader;
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
    /// <summary>Lets the default load context find the engine through the module's own one.</summary>
    public void OnImport() => EngineLoadContext.Attach(AssemblyLoadContext.Default);

    /// <summary>Stops answering for the engine; what was already loaded stays (a load context here cannot be unloaded).</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => EngineLoadContext.Detach(AssemblyLoadContext.Default);
}
