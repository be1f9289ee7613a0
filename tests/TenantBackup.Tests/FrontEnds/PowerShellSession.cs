using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using SMA = System.Management.Automation;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// A real PowerShell engine in the test process (the System.Management.Automation package, no pwsh needed), with every
/// cmdlet of the module's assembly and any test cmdlets registered, so parameter binding, ShouldProcess, error records
/// and streams are PowerShell's own.
/// </summary>
internal static class PowerShellSession
{
    public static SMA.PowerShell Create(params (string Name, Type Type)[] extraCmdlets)
        => SMA.PowerShell.Create(SessionState(extraCmdlets));

    /// <summary>A session whose prompts (ShouldProcess confirmations) go to <paramref name="host"/>.</summary>
    public static SMA.PowerShell Create(PSHost host)
    {
        var runspace = RunspaceFactory.CreateRunspace(host, SessionState([]));
        runspace.Open();
        var ps = SMA.PowerShell.Create();
        ps.Runspace = runspace;
        return ps;
    }

    private static InitialSessionState SessionState((string Name, Type Type)[] extraCmdlets)
    {
        var state = InitialSessionState.CreateDefault2();
        foreach (var type in CmdletMetadataTests.CmdletAssembly.GetTypes().Where(t => t.IsDefined(typeof(CmdletAttribute), inherit: false)))
        {
            var name = (CmdletAttribute)type.GetCustomAttributes(typeof(CmdletAttribute), inherit: false)[0];
            state.Commands.Add(new SessionStateCmdletEntry($"{name.VerbName}-{name.NounName}", type, null));
        }

        foreach (var (name, type) in extraCmdlets)
        {
            state.Commands.Add(new SessionStateCmdletEntry(name, type, null));
        }

        return state;
    }

    /// <summary>
    /// Runs the pipeline (with <paramref name="input"/>, if any) and returns the terminating error, or null when there was none.
    /// </summary>
    public static ErrorRecord? InvokeCatching(
        this SMA.PowerShell ps, out IList<PSObject> output, System.Collections.IEnumerable? input = null)
    {
        try
        {
            output = input is null ? ps.Invoke() : ps.Invoke(input);
            return null;
        }
        catch (RuntimeException ex)
        {
            output = [];
            return ex.ErrorRecord;
        }
    }
}
