using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace TenantBackup.Engine.Restore;

// Whose a staging folder is, so that the next restore of the same tenant can remove one a killed restore left.
internal sealed partial class FilesRestore
{
    private const string OwnerSuffix = ".owner";

    /// <summary>The restore a staging folder belongs to: its database and target tenant, whose exclusive lock it holds.</summary>
    internal sealed record StagingOwner(string Database, string TenantColumn, string Tenant);

    /// <summary>
    /// <c>&lt;staging&gt;.owner</c>, written before the staging folder is made and deleted with it (or once the folder is
    /// swapped in for good). Host, process and time are for the operator who finds one.
    /// </summary>
    internal sealed record OwnerRecord(
        string Database, string TenantColumn, string Tenant, string Host, int ProcessId, DateTimeOffset Since);

    /// <summary>
    /// Removes the staging folders (<c>&lt;dest&gt;.restore-&lt;id8&gt;</c>, <c>-2</c> ...) that restores of
    /// <paramref name="owner"/>'s tenant left beside <paramref name="targets"/> when they were killed before their swap,
    /// with a warning naming each. Call it under that tenant's exclusive lock, after <see cref="RecoverAsync"/>.
    /// </summary>
    /// <remarks>
    /// A destination is not a tenant's own: it is a folder the archive recorded (any folder can be included in any
    /// tenant's backup) or one given with -FilesPath, so two tenants' restores may share it, and a staging folder beside
    /// it may belong to a restore of another tenant that is running now. Only a folder whose owner record names this
    /// database and tenant is removed: the exclusive lock held now proves that no restore of it is running, on any host.
    /// A folder with a swap journal is the journal's to settle; one without an owner record (left by an earlier version,
    /// or not a staging folder at all) is never touched.
    /// </remarks>
    public static void RemoveAbandonedStaging(IReadOnlyList<FileRestoreTarget> targets, StagingOwner owner, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(logger);
        foreach (var target in targets)
        {
            string destination = Resolve(Normalize(target.Destination));
            string? parent = Path.GetDirectoryName(destination);
            if (parent is null || !Directory.Exists(parent))
            {
                continue;
            }

            string name = Path.GetFileName(destination);
            var stagingName = new Regex(
                "^" + Regex.Escape(name) + @"\.restore-[0-9a-f]{8}(-[0-9]+)?$",
                OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? RegexOptions.IgnoreCase : RegexOptions.None,
                TimeSpan.FromSeconds(1));
            string[] records;
            try
            {
                records = Directory.GetFiles(parent, name + ".restore-*" + OwnerSuffix);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not look for staging folders left beside {Destination}: {Message}", destination, ex.Message);
                continue;
            }

            foreach (string record in records)
            {
                string staging = record[..^OwnerSuffix.Length];
                if (stagingName.IsMatch(Path.GetFileName(staging)) && IsOwnedBy(record, owner) && !Exists(staging + JournalSuffix))
                {
                    RemoveAbandoned(staging, record, owner, logger);
                }
            }
        }
    }

    private static bool IsOwnedBy(string record, StagingOwner owner)
    {
        // Cut short by the kill, or unreadable: whose it is cannot be told, so it stays.
        var found = ReadRecord<OwnerRecord>(record);
        return found is not null
            && string.Equals(found.Database, owner.Database, StringComparison.Ordinal)
            && string.Equals(found.TenantColumn, owner.TenantColumn, StringComparison.Ordinal)
            && string.Equals(found.Tenant, owner.Tenant, StringComparison.Ordinal);
    }

    private static void RemoveAbandoned(string staging, string record, StagingOwner owner, ILogger logger)
    {
        try
        {
            // Only a real folder: a link in its place is not what the restore made, and deleting through it could reach anything.
            if (Directory.Exists(staging) && new DirectoryInfo(staging).LinkTarget is null)
            {
                Directory.Delete(staging, recursive: true);
                logger.LogWarning(
                    "Removed {Staging}, the staging folder of a restore of tenant {Column} = {Tenant} that was killed before its swap "
                    + "(its rows were not restored and the tenant folder was not touched)",
                    staging,
                    owner.TenantColumn,
                    owner.Tenant);
            }

            if (!Exists(staging))
            {
                File.Delete(record);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(
                "Could not remove {Staging}, left by a restore that was killed before its swap: {Message}", staging, ex.Message);
        }
    }

    /// <summary>Records whose staging folder <paramref name="staging"/> is; nothing when the restore was given no owner.</summary>
    private void WriteOwner(string staging)
    {
        if (_owner is null)
        {
            return;
        }

        var record = new OwnerRecord(
            _owner.Database, _owner.TenantColumn, _owner.Tenant, Environment.MachineName, Environment.ProcessId, DateTimeOffset.UtcNow);
        WriteRecord(staging + OwnerSuffix, record, FileMode.CreateNew);
    }

    /// <summary>Deletes the owner record of <paramref name="staging"/>; one that stays is harmless, and removed next time.</summary>
    private static void DeleteOwner(string staging)
    {
        try
        {
            File.Delete(staging + OwnerSuffix);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Its folder is gone or in place; the next restore of the tenant removes the record.
        }
    }
}
