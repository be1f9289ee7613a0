using System.Management.Automation;
using System.Security;
using TenantBackup.Engine;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Completion;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Compares a repository's index with the archives in its folder and, with -Apply, repairs the index.</para>
/// <para type="description">Writes one IndexDiscrepancy per disagreement: Missing (listed, file gone), Orphaned (file not
/// listed), Mismatched (size, SHA-256 or status drift). With -Apply, under the index lock, missing backups are marked
/// missing, orphans that verify are adopted from their own tenantbackup.json, drift is fixed from the verified file, and an
/// unreadable index is moved aside to backups.json.corrupt-TIME and rebuilt from the archives. Without -Apply nothing is
/// written.</para>
/// </summary>
[Cmdlet(VerbsData.Sync, "BackupIndex", SupportsShouldProcess = true)]
[OutputType(typeof(IndexDiscrepancy))]
public sealed class SyncBackupIndexCommand : TenantBackupCmdlet
{
    private const int ProgressActivityId = 0x7B04;

    /// <summary>
    /// <para type="description">Repository folder (default $env:TENANTBACKUP_REPOSITORY, else a per-user data folder).</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary><para type="description">Only this tenant's backups and archives (exact match); default: every tenant.</para></summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TenantCompleter))]
    public string? Tenant { get; set; }

    /// <summary><para type="description">Repair the index; without it the discrepancies are only reported.</para></summary>
    [Parameter]
    public SwitchParameter Apply { get; set; }

    /// <summary>
    /// <para type="description">The key file of encrypted archives: an orphaned encrypted archive is adopted only with its key, since its
    /// tenantbackup.json is inside the encryption. Without it only the file's checksum can be compared.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EncryptionKeyFile { get; set; }

    /// <summary>
    /// <para type="description">The passphrase of encrypted archives (a SecureString). Give -EncryptionKeyFile or -Passphrase, not
    /// both.</para>
    /// </summary>
    [Parameter]
    public SecureString? Passphrase { get; set; }

    /// <summary>Compares, repairs when asked and allowed, and writes the discrepancies.</summary>
    protected override void ProcessRecord()
    {
        IndexSyncRequest request;
        try
        {
            request = BuildRequest(ResolvePath);
        }
        catch (TenantBackupException ex)
        {
            ThrowEngineError(ex, Repository);
            return;
        }

        using var key = request.Encryption;
        var repository = request.Repository ?? BackupRepository.DefaultPath;
        // -Apply -WhatIf reports what would be repaired, as a run without -Apply does.
        if (request.Apply && !ShouldProcess(DescribeTarget(request, repository), "Repair the backup index"))
        {
            request = new IndexSyncRequest { Repository = request.Repository, Tenant = request.Tenant, Encryption = request.Encryption };
        }

        var found = RunEngine(
            ProgressActivityId,
            $"Comparing the index of {repository} with its archives",
            repository,
            (log, _, token) => IndexSync.RunAsync(request, token, log));
        if (found is not null)
        {
            WriteObject(found, enumerateCollection: true);
        }
    }

    /// <summary>The engine request from the parameters; <paramref name="apply"/> overrides -Apply.</summary>
    internal IndexSyncRequest BuildRequest(Func<string, string>? resolvePath = null, bool? apply = null)
    {
        resolvePath ??= static path => path;
        return new IndexSyncRequest
        {
            Repository = Repository is null ? null : resolvePath(Repository),
            Tenant = Tenant,
            Apply = apply ?? Apply.IsPresent,
            Encryption = EncryptionParameters.KeyFrom(EncryptionKeyFile, Passphrase, resolvePath),
        };
    }

    /// <summary>The ShouldProcess target: the index, and the tenant when filtered.</summary>
    internal static string DescribeTarget(IndexSyncRequest request, string repository)
        => request.Tenant is null
            ? $"Index '{Path.Combine(repository, BackupRepository.IndexFileName)}'"
            : $"Index '{Path.Combine(repository, BackupRepository.IndexFileName)}', backups of tenant '{request.Tenant}'";
}
