using System.Globalization;
using System.Management.Automation;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Completion;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes backups from a repository: by id or pipeline, or by a retention policy per tenant.</para>
/// <para type="description">Each backup removed loses its archive, its .sha256 file and its index entry together. A policy
/// (-KeepLast, -KeepDaily, -KeepWeekly, -KeepMonthly, -OlderThan) keeps a backup when any rule keeps it, per tenant,
/// pre-restore backups included. A tenant's newest valid backup (available, last verification not failed) is never removed
/// without -Force. The command writes one PruneDecision per backup considered: kept or removed, and why; with -WhatIf it
/// writes the same list and removes nothing.</para>
/// </summary>
[Cmdlet(
    VerbsCommon.Remove,
    "TenantBackup",
    SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.High,
    DefaultParameterSetName = PolicySet)]
[OutputType(typeof(PruneDecision))]
public sealed class RemoveTenantBackupCommand : TenantBackupCmdlet
{
    /// <summary>Parameter set: the backups piped in, as Get-TenantBackup writes them.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>Parameter set: the backups named by id.</summary>
    public const string ByIdSet = "ById";

    /// <summary>Parameter set: the backups a retention policy lets go.</summary>
    public const string PolicySet = "Policy";

    private const int ProgressActivityId = 0x7B04;

    // Pipeline items may come from several repositories; each gets its own removal, in the order first seen.
    private readonly List<(string? Repository, List<string> Ids)> _byRepository = [];

    /// <summary><para type="description">Backups to remove, as Get-TenantBackup writes them.</para></summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public BackupInfo[]? InputObject { get; set; }

    /// <summary><para type="description">Ids of backups to remove. Takes pipeline input by property name.</para></summary>
    [Parameter(ParameterSetName = ByIdSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupIdCompleter))]
    public string[]? Id { get; set; }

    /// <summary>
    /// <para type="description">Repository folder (default $env:TENANTBACKUP_REPOSITORY, else a per-user data folder).</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary><para type="description">Apply the policy to this tenant only; default: every tenant, each on its own.</para></summary>
    [Parameter(ParameterSetName = PolicySet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TenantCompleter))]
    public string? Tenant { get; set; }

    /// <summary><para type="description">Keep the N newest backups of each tenant.</para></summary>
    [Parameter(ParameterSetName = PolicySet)]
    [ValidateRange(0, int.MaxValue)]
    public int? KeepLast { get; set; }

    /// <summary><para type="description">Keep the newest backup of each of the N most recent UTC days that have backups.</para></summary>
    [Parameter(ParameterSetName = PolicySet)]
    [ValidateRange(0, int.MaxValue)]
    public int? KeepDaily { get; set; }

    /// <summary><para type="description">Keep the newest backup of each of the N most recent ISO weeks that have backups.</para></summary>
    [Parameter(ParameterSetName = PolicySet)]
    [ValidateRange(0, int.MaxValue)]
    public int? KeepWeekly { get; set; }

    /// <summary><para type="description">Keep the newest backup of each of the N most recent months that have backups.</para></summary>
    [Parameter(ParameterSetName = PolicySet)]
    [ValidateRange(0, int.MaxValue)]
    public int? KeepMonthly { get; set; }

    /// <summary>
    /// <para type="description">Remove only backups older than this ('30d', '12h', seconds, or a TimeSpan); alone, remove
    /// every backup older than this.</para>
    /// </summary>
    [Parameter(ParameterSetName = PolicySet)]
    [TimeSpanTransformation]
    public TimeSpan? OlderThan { get; set; }

    /// <summary>
    /// <para type="description">Also remove a tenant's newest valid backup, and do not ask for confirmation (unless -Confirm
    /// is given).</para>
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Collects the backups named by the current pipeline item; a policy needs no input.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == PolicySet)
        {
            return;
        }

        var items = InputObject is { Length: > 0 } backups
            ? backups.Select(b => ((string?)b.Repository, b.Id))
            : (Id ?? []).Select(id => (Repository, id));
        foreach (var (repository, id) in items)
        {
            var group = _byRepository.FindIndex(g => string.Equals(g.Repository, repository, StringComparison.Ordinal));
            if (group < 0)
            {
                _byRepository.Add((repository, []));
                group = _byRepository.Count - 1;
            }

            _byRepository[group].Ids.Add(id);
        }
    }

    /// <summary>Decides, asks once per backup to remove, removes, and writes the decisions.</summary>
    protected override void EndProcessing()
    {
        if (ParameterSetName != PolicySet)
        {
            foreach (var (repository, ids) in _byRepository)
            {
                Prune(repository, ids);
            }
        }
        else
        {
            Prune(Repository, []);
        }
    }

    /// <summary>
    /// The engine request: the given ids, or else the policy of the parameters (-Tenant, -Keep*, -OlderThan), with -Force.
    /// <paramref name="resolvePath"/> turns the repository into a file-system path.
    /// </summary>
    internal PruneRequest BuildRequest(Func<string, string> resolvePath, string? repository, IReadOnlyList<string> ids)
    {
        var request = new PruneRequest
        {
            Repository = repository is null ? null : resolvePath(repository),
            Ids = ids,
            Force = Force.IsPresent,
        };
        if (ids.Count > 0)
        {
            return request;
        }

        request = request with
        {
            Tenant = Tenant,
            Policy = new RetentionPolicy
            {
                KeepLast = KeepLast,
                KeepDaily = KeepDaily,
                KeepWeekly = KeepWeekly,
                KeepMonthly = KeepMonthly,
                OlderThan = OlderThan,
            },
        };
        request.Validate();
        return request;
    }

    /// <summary>The ShouldProcess target: the backup, its tenant, time and file.</summary>
    internal static string TargetText(PruneDecision decision) => string.Format(
        CultureInfo.InvariantCulture,
        "backup {0} of tenant {1} taken {2:yyyy-MM-dd HH:mm:ss}Z ({3})",
        decision.Id,
        decision.Tenant,
        decision.CreatedAt.UtcDateTime,
        decision.Path);

    private void Prune(string? repository, IReadOnlyList<string> ids)
    {
        PruneRequest request;
        IReadOnlyList<PruneDecision> plan;
        try
        {
            request = BuildRequest(ResolvePath, repository, ids);
            plan = Pruner.Plan(request);
        }
        catch (TenantBackupException ex)
        {
            ThrowEngineError(ex, repository);
            return;
        }

        const string Action = "Remove the backup: archive, .sha256 file and index entry";
        var approved = new HashSet<string>(StringComparer.Ordinal);
        foreach (var decision in plan.Where(d => d.Action == PruneAction.Remove))
        {
            // Under -WhatIf this prints what would go and approves nothing.
            if (Confirm(TargetText(decision), Action))
            {
                approved.Add(decision.Id);
            }
        }

        if (IsWhatIf())
        {
            WriteObject(plan, enumerateCollection: true);
            return;
        }

        var decisions = RunEngine(
            ProgressActivityId,
            "Removing backups",
            repository,
            (log, _, cancellationToken) => Pruner.PruneAsync(request, approved, cancellationToken, log: log));
        foreach (var decision in decisions ?? [])
        {
            if (decision.Error is { } error && !decision.Removed)
            {
                WriteError(ErrorIds.ToErrorRecord(new TenantBackupException(ErrorCode.IOError, error, decision.Path), decision));
            }
            else if (decision.Error is { } leftover)
            {
                WriteWarning(leftover);
            }

            WriteObject(decision);
        }
    }

    // -Force answers the prompt in advance, as -Confirm:$false would, unless -Confirm is given or -WhatIf asks for a preview.
    private bool Confirm(string target, string action)
    {
        if (Force && !IsWhatIf() && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\".");
            return true;
        }

        return ShouldProcess(target, action);
    }

    // -WhatIf as PowerShell's own ShouldProcess reads it: the switch when given, else $WhatIfPreference.
    private bool IsWhatIf()
    {
        var value = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var bound) ? bound : GetVariableValue("WhatIfPreference");
        return value is SwitchParameter switchParameter ? switchParameter.IsPresent : LanguagePrimitives.IsTrue(value);
    }
}
