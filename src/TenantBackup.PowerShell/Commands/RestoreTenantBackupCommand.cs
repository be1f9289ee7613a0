using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Security;
using TenantBackup.Engine;
using TenantBackup.Engine.Restore;
using TenantBackup.PowerShell.Completion;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Restores a tenant from a backup, in one transaction: same tenant, or cloned into another one.</para>
/// <para type="description">The backup comes from the pipeline (Get-TenantBackup, New-TenantBackup), from -Id (in the
/// repository's index) or from -Path (an archive file). The command writes one RestoreResult per backup restored; with
/// -WhatIf it writes the RestorePlan instead and changes nothing. Unless -NoPreBackup, the target tenant's current rows
/// are backed up first, and restoring that backup (RestoreResult.PreRestoreBackupId) undoes the restore.</para>
/// </summary>
[Cmdlet(
    VerbsData.Restore,
    "TenantBackup",
    SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.High,
    DefaultParameterSetName = ConnectionStringSet)]
[OutputType(typeof(RestoreResult), typeof(RestorePlan))]
public sealed class RestoreTenantBackupCommand : DatabaseCmdlet
{
    private const int ProgressActivityId = 0x7B02;

    // The engine's defaults, shown by parameters left out.
    private static readonly RestoreRequest _defaults = new() { ConnectionString = string.Empty };

    private static readonly string[] _sourceParameters = [nameof(InputObject), nameof(Id), nameof(Path)];

    private string? _commandLineSource;

    /// <summary>
    /// <para type="description">Backups to restore, as Get-TenantBackup and New-TenantBackup write them. Each is restored
    /// from its archive file (Path), and the restore is recorded in its repository.</para>
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public BackupInfo[]? InputObject { get; set; }

    /// <summary>
    /// <para type="description">The id of a backup in the repository's index. Takes pipeline input by property name.</para>
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupIdCompleter))]
    public string? Id { get; set; }

    /// <summary>
    /// <para type="description">An archive file (.tar.zst, .tar.gz, .tar). Takes pipeline input by property name, also
    /// from FullName, so Get-ChildItem output binds. When an object brings both Id and Path, the file is used.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>
    /// <para type="description">Repository folder (default $env:TENANTBACKUP_REPOSITORY, else a per-user data folder): where
    /// -Id is looked up, the safety backup goes and the restore is recorded.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary>
    /// <para type="description">The tenant to restore into (a clone); default: the tenant the backup was taken from.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TargetTenant { get; set; }

    /// <summary>
    /// <para type="description">Values for columns of the new tenant's root row (e.g. tenants), as a hashtable of column name
    /// to value: @{ slug = 'acme-staging' }. For a clone whose root table has a unique column (a slug, a subdomain), which
    /// would otherwise collide with the source tenant's row. Values are cast to the column's type; $null sets NULL.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public IDictionary? RootValues { get; set; }

    /// <summary>
    /// <para type="description">Replace (default: delete the tenant's rows, then insert the backup's), Merge (upsert by
    /// primary key) or Append (insert only rows whose key is absent).</para>
    /// </summary>
    [Parameter]
    public RestoreMode Mode { get; set; } = _defaults.Mode;

    /// <summary>
    /// <para type="description">Remap (default: give surrogate keys that other tenants use new values, and rewrite every
    /// reference) or Fail (refuse the restore and list the collisions).</para>
    /// </summary>
    [Parameter]
    public KeyCollisionAction KeyCollision { get; set; } = _defaults.KeyCollision;

    /// <summary><para type="description">Skip the safety backup of the target tenant taken before any change (no undo).</para></summary>
    [Parameter]
    public SwitchParameter NoPreBackup { get; set; }

    /// <summary>
    /// <para type="description">Disable user triggers of the restored tables while rows are written (foreign keys stay checked).</para>
    /// </summary>
    [Parameter]
    public SwitchParameter DisableTriggers { get; set; }

    /// <summary>
    /// <para type="description">Wildcards of the backup's tables (table or schema.table) to restore; default: all.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? IncludeTable { get; set; }

    /// <summary><para type="description">Wildcards of the backup's tables (table or schema.table) to leave out.</para></summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ExcludeTable { get; set; }

    /// <summary>
    /// <para type="description">Where the backup's tenant files go; default: where they were backed up from, which a
    /// restore into another tenant refuses unless -SkipFiles.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FilesPath { get; set; }

    /// <summary><para type="description">Leave the backup's tenant files out of the restore.</para></summary>
    [Parameter]
    public SwitchParameter SkipFiles { get; set; }

    /// <summary>
    /// <para type="description">How long to wait for the tenant's lock: seconds (90) or a TimeSpan (00:01:30). Default 30 s.</para>
    /// </summary>
    [Parameter]
    [TimeSpanTransformation]
    public TimeSpan LockTimeout { get; set; } = _defaults.LockTimeout;

    /// <summary>
    /// <para type="description">The key file of an encrypted archive (32 bytes, or their base64 text). The safety backup taken first is
    /// encrypted with it too. An unencrypted archive needs no key.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EncryptionKeyFile { get; set; }

    /// <summary>
    /// <para type="description">The passphrase of an encrypted archive (a SecureString); the safety backup is encrypted with it too. Give
    /// -EncryptionKeyFile or -Passphrase, not both.</para>
    /// </summary>
    [Parameter]
    public SecureString? Passphrase { get; set; }

    /// <summary><para type="description">Restore without asking for confirmation (an explicit -Confirm still asks).</para></summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Notes which backup source the command line itself names; pipeline input binds later, per item.</summary>
    protected override void BeginProcessing()
    {
        var named = _sourceParameters.Where(MyInvocation.BoundParameters.ContainsKey).ToList();
        if (named.Count > 1)
        {
            ThrowEngineError(
                new TenantBackupException(
                    ErrorCode.InvalidArgument,
                    $"Name one backup source: -{string.Join(", -", named)} were all given.",
                    string.Join(", ", named)),
                null);
        }

        _commandLineSource = named.SingleOrDefault();
    }

    /// <summary>Restores (or, with -WhatIf, plans) each backup of the current pipeline item.</summary>
    protected override void ProcessRecord()
    {
        // A piped object must not quietly replace what the command line named, nor be ignored for it.
        if (_commandLineSource is not null && GivenSources().Any(p => p != _commandLineSource))
        {
            ThrowEngineError(
                new TenantBackupException(
                    ErrorCode.InvalidArgument,
                    $"The pipeline and -{_commandLineSource} both name a backup; give one of them.",
                    _commandLineSource),
                null);
        }

        foreach (var backup in InputObject is { Length: > 0 } backups ? backups : (BackupInfo?[])[null])
        {
            Restore(backup);
        }
    }

    // Pipeline-bound parameters go back to null before each item, so this is what the current item and the command line give.
    private IEnumerable<string> GivenSources()
    {
        if (InputObject is not null)
        {
            yield return nameof(InputObject);
        }

        if (Id is not null)
        {
            yield return nameof(Id);
        }

        if (Path is not null)
        {
            yield return nameof(Path);
        }
    }

    private void Restore(BackupInfo? backup)
    {
        RestoreRequest request;
        try
        {
            request = BuildRequest(backup, ResolvePath);
        }
        catch (TenantBackupException ex)
        {
            ThrowEngineError(ex, (object?)backup ?? Path ?? Id);
            return;
        }

        using var key = request.Encryption;

        var source = (object?)backup ?? request.ArchivePath ?? request.BackupId;
        if (IsWhatIf())
        {
            // The design's -WhatIf: the plan as an object instead of a "What if:" line; computing it changes nothing.
            var plan = RunEngine(
                ProgressActivityId,
                $"Planning restore of {DescribeSource(request, backup)}",
                source,
                (log, progress, token) => new RestoreEngine(log).PlanAsync(request, progress, token));
            if (plan is not null)
            {
                WriteObject(plan);
            }

            return;
        }

        if (!Confirm(DescribeTarget(request, backup), DescribeAction(request)))
        {
            return;
        }

        var result = RunEngine(
            ProgressActivityId,
            $"Restoring {DescribeSource(request, backup)}",
            source,
            (log, progress, token) => new RestoreEngine(log).RestoreAsync(request, progress, token));
        if (result is not null)
        {
            WriteObject(result);
        }
    }

    /// <summary>
    /// The engine request for the current parameter values and one piped <paramref name="backup"/> (null when the backup
    /// is named by -Path or -Id); paths go through <paramref name="resolvePath"/> (PowerShell's current location when the
    /// command runs; as given when null).
    /// </summary>
    /// <remarks>
    /// A backup is restored from its file when one is known, else looked up by id; the file wins because it is what gets
    /// restored (the engine reads the backup's id from the archive itself). A piped object's repository receives the
    /// history unless -Repository is given. PowerShell also turns a [pscustomobject] with some of BackupInfo's properties
    /// into a BackupInfo whose other properties are null, so every value of <paramref name="backup"/> may be missing.
    /// </remarks>
    /// <exception cref="TenantBackupException">A parameter value the engine could not use, or no backup named at all.</exception>
    internal RestoreRequest BuildRequest(BackupInfo? backup = null, Func<string, string>? resolvePath = null)
    {
        resolvePath ??= static path => path;
        var path = NullIfEmpty(backup?.Path) ?? Path;
        var id = NullIfEmpty(backup?.Id) ?? Id;
        var repository = Repository ?? NullIfEmpty(backup?.Repository);
        if (path is null && id is null)
        {
            throw new TenantBackupException(
                ErrorCode.InvalidArgument,
                "Name the backup to restore: -Id, -Path, or pipe Get-TenantBackup's output into Restore-TenantBackup.",
                "Id, Path, InputObject");
        }

        return new RestoreRequest
        {
            ConnectionString = BuildConnectionString(),
            BackupId = path is null ? id : null,
            ArchivePath = path is null ? null : resolvePath(path),
            Repository = repository is null ? null : resolvePath(repository),
            TargetTenant = TargetTenant,
            RootValues = ToRootValues(RootValues),
            Mode = Mode,
            KeyCollision = KeyCollision,
            NoPreBackup = NoPreBackup.IsPresent,
            DisableTriggers = DisableTriggers.IsPresent,
            IncludeTables = IncludeTable ?? [],
            ExcludeTables = ExcludeTable ?? [],
            FilesPath = FilesPath is null ? null : resolvePath(FilesPath),
            SkipFiles = SkipFiles.IsPresent,
            LockTimeout = LockTimeout,
            Encryption = EncryptionParameters.KeyFrom(EncryptionKeyFile, Passphrase, resolvePath),
        };
    }

    /// <summary>
    /// -RootValues as the engine takes them: column names and values as invariant text (dates as ISO 8601, which
    /// PostgreSQL reads whatever its DateStyle), null for $null.
    /// </summary>
    internal static IReadOnlyDictionary<string, string?> ToRootValues(IDictionary? values)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (values is null)
        {
            return result;
        }

        foreach (DictionaryEntry entry in values)
        {
            var column = Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? string.Empty;
            var value = Unwrap(entry.Value) switch
            {
                null or DBNull => null,
                DateTime date => date.ToString("o", CultureInfo.InvariantCulture),
                DateTimeOffset date => date.ToString("o", CultureInfo.InvariantCulture),
                var other => Convert.ToString(other, CultureInfo.InvariantCulture),
            };
            if (!result.TryAdd(column, value))
            {
                throw new TenantBackupException(
                    ErrorCode.InvalidArgument, $"-RootValues sets the column {column} twice; give each column once.", column);
            }
        }

        return result;
    }

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

    /// <summary>
    /// The ShouldProcess target: the backup (id, tenant, file as far as known before the archive is read), the target
    /// tenant and the database, never the password.
    /// </summary>
    internal static string DescribeTarget(RestoreRequest request, BackupInfo? backup)
    {
        var into = request.TargetTenant is not null ? $"tenant '{request.TargetTenant}'"
            : NullIfEmpty(backup?.Tenant) is { } tenant ? $"tenant '{tenant}'"
            : "the backup's own tenant";
        return $"{DescribeSource(request, backup)} -> {into} of {ConnectionStrings.Describe(request.ConnectionString)}";
    }

    /// <summary>The ShouldProcess action: what happens to the target tenant's current rows.</summary>
    internal static string DescribeAction(RestoreRequest request)
    {
        var action = request.Mode switch
        {
            RestoreMode.Merge => "Restore tenant backup (Merge: overwrite rows with the same key, keep the others)",
            RestoreMode.Append => "Restore tenant backup (Append: add rows whose key is absent)",
            _ => "Restore tenant backup (Replace: delete the tenant's current rows first)",
        };
        return request.NoPreBackup ? action + ", without a safety backup" : action;
    }

    // What is known before the archive is read: the id, the tenant and the file, as far as given.
    private static string DescribeSource(RestoreRequest request, BackupInfo? backup)
    {
        var id = request.BackupId ?? NullIfEmpty(backup?.Id);
        var text = id is null ? $"archive '{request.ArchivePath}'" : $"backup {id}";
        if (NullIfEmpty(backup?.Tenant) is { } tenant)
        {
            text += $" of tenant '{tenant}'";
        }

        return id is not null && request.ArchivePath is not null ? $"{text} ({request.ArchivePath})" : text;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    // The ShouldProcess decision for a High-impact change. -Force answers the prompt in advance, as -Confirm:$false would,
    // unless -Confirm is given explicitly. Script cmdlets do this by setting $ConfirmPreference in their own scope; a
    // compiled cmdlet has no scope of its own, so setting it would change the caller's.
    private bool Confirm(string target, string action)
    {
        if (Force && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
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
