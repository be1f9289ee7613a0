using System.Management.Automation;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Completion;

namespace TenantBackup.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the backups in a repository's index.</para>
/// <para type="description">Writes one BackupInfo per backup, oldest first, filtered by tenant, id and kind; -Latest keeps the
/// newest backup of each tenant.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "TenantBackup")]
[OutputType(typeof(BackupInfo))]
public sealed class GetTenantBackupCommand : TenantBackupCmdlet
{
    /// <summary><para type="description">Repository folder (default $env:TENANTBACKUP_REPOSITORY, else a per-user data
    /// folder).</para></summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary><para type="description">Tenant values to list backups of (exact match); default: every tenant.</para></summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TenantCompleter))]
    public string[]? Tenant { get; set; }

    /// <summary><para type="description">Backup ids; wildcards allowed. An id without wildcards that matches nothing is an
    /// error.</para></summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupIdCompleter))]
    public string[]? Id { get; set; }

    /// <summary><para type="description">Only the newest backup of each tenant (after the other filters).</para></summary>
    [Parameter]
    public SwitchParameter Latest { get; set; }

    /// <summary><para type="description">Only backups of these kinds: full, pre-restore.</para></summary>
    [Parameter]
    [ValidateSet(BackupKinds.Full, BackupKinds.PreRestore)]
    public string[]? Kind { get; set; }

    /// <summary>Reads the index and writes the backups that pass the filters.</summary>
    protected override void ProcessRecord()
    {
        IReadOnlyList<BackupInfo> backups;
        try
        {
            var repository = BackupRepository.Open(Repository is null ? null : ResolvePath(Repository));
            backups = repository.List(Tenant is [var single] ? single : null);
        }
        catch (TenantBackupException ex)
        {
            ThrowEngineError(ex, Repository);
            return;
        }

        var selected = Filter(backups, Tenant, Id, Kind, Latest.IsPresent);
        foreach (var missing in UnmatchedIds(backups, Tenant, Id))
        {
            WriteError(ErrorIds.ToErrorRecord(
                new TenantBackupException(
                    ErrorCode.ArchiveNotFound,
                    $"No backup with id '{missing}' in the repository; run Get-TenantBackup to list them.",
                    missing),
                missing));
        }

        WriteObject(selected, enumerateCollection: true);
        LogSuccess($"Listed {selected.Count} backup(s)");
    }

    /// <summary>
    /// The backups that pass every filter, in their original (oldest first) order. Null or empty filters pass everything;
    /// tenants match exactly, ids by wildcard (case-insensitive), kinds exactly; <paramref name="latest"/> then keeps the
    /// newest backup of each tenant.
    /// </summary>
    internal static IReadOnlyList<BackupInfo> Filter(
        IEnumerable<BackupInfo> backups,
        IReadOnlyCollection<string>? tenants,
        IReadOnlyCollection<string>? ids,
        IReadOnlyCollection<string>? kinds,
        bool latest)
    {
        var idPatterns = ids is { Count: > 0 } ? ids.Select(id => new WildcardPattern(id, WildcardOptions.IgnoreCase)).ToList() : null;
        var selected = backups
            .Where(b => tenants is not { Count: > 0 } || tenants.Contains(b.Tenant, StringComparer.Ordinal))
            .Where(b => idPatterns is null || idPatterns.Exists(p => p.IsMatch(b.Id)))
            .Where(b => kinds is not { Count: > 0 } || kinds.Contains(b.Kind, StringComparer.OrdinalIgnoreCase))
            .ToList();
        if (!latest)
        {
            return selected;
        }

        // Ids are time-sortable, so they break ties between backups taken in the same instant.
        var newest = selected
            .GroupBy(b => b.Tenant, StringComparer.Ordinal)
            .Select(g => g.OrderBy(b => b.CreatedAt).ThenBy(b => b.Id, StringComparer.Ordinal).Last())
            .ToHashSet();
        return selected.Where(newest.Contains).ToList();
    }

    /// <summary>The literal ids (no wildcards) that name no backup of the selected tenants.</summary>
    internal static IReadOnlyList<string> UnmatchedIds(
        IEnumerable<BackupInfo> backups,
        IReadOnlyCollection<string>? tenants,
        IReadOnlyCollection<string>? ids)
    {
        if (ids is not { Count: > 0 })
        {
            return [];
        }

        var candidates = Filter(backups, tenants, ids: null, kinds: null, latest: false);
        return ids
            .Where(id => !WildcardPattern.ContainsWildcardCharacters(id))
            .Where(id => !candidates.Any(b => string.Equals(b.Id, id, StringComparison.OrdinalIgnoreCase)))
            .ToList();
    }
}
