using System.Management.Automation;
using System.Management.Automation.Runspaces;
using TenantBackup.PowerShell.Commands;
using SMA = System.Management.Automation;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// A real PowerShell engine in the test process (the System.Management.Automation package, no pwsh needed), with the
/// module's cmdlets and any test cmdlets registered, so parameter binding, ShouldProcess, error records and streams
/// are PowerShell's own.
/// </summary>
internal static class PowerShellSession
{
    public static SMA.PowerShell Create(params (string Name, Type Type)[] extraCmdlets)
    {
        var state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("New-TenantBackup", typeof(NewTenantBackupCommand), null));
        state.Commands.Add(new SessionStateCmdletEntry("Get-TenantBackup", typeof(GetTenantBackupCommand), null));
        foreach (var (name, type) in extraCmdlets)
        {
            state.Commands.Add(new SessionStateCmdletEntry(name, type, null));
        }

        return SMA.PowerShell.Create(state);
    }

    /// <summary>Runs the pipeline and returns the terminating error, or null when there was none.</summary>
    public static ErrorRecord? InvokeCatching(this SMA.PowerShell ps, out IList<PSObject> output)
    {
        try
        {
            output = ps.Invoke();
            return null;
        }
        catch (RuntimeException ex)
        {
            output = [];
            return ex.ErrorRecord;
        }
    }
}
