using System.Management.Automation;
using System.Security;
using TenantBackup.Engine;
using TenantBackup.Engine.Backup;
using TenantBackup.Engine.Repository;
using TenantBackup.PowerShell.Completion;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Backs up one tenant's rows into a checksummed archive in a backup repository.</para>
/// <para type="description">Each tenant value (from -Tenant or the pipeline) gets its own archive and index entry; the
/// command writes one BackupInfo per backup.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "TenantBackup", SupportsShouldProcess = true, DefaultParameterSetName = ConnectionStringSet)]
[OutputType(typeof(BackupInfo))]
public sealed class NewTenantBackupCommand : DatabaseCmdlet
{
    private const int ProgressActivityId = 0x7B01;

    // The engine's defaults, shown by parameters left out.
    private static readonly BackupRequest _defaults = new() { ConnectionString = string.Empty, Tenant = string.Empty };

    private Compression? _compression;

    /// <summary><para type="description">The tenant value to back up, e.g. 42 or a uuid. Takes pipeline input.</para></summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TenantCompleter))]
    public string Tenant { get; set; } = string.Empty;

    /// <summary><para type="description">The column that carries the tenant (default tenant_id).</para></summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string TenantColumn { get; set; } = BackupRequest.DefaultTenantColumn;

    /// <summary><para type="description">Repository folder (default $env:TENANTBACKUP_REPOSITORY, else a per-user data
    /// folder).</para></summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary>
    /// <para type="description">Zstd (default), Gzip or None. When given explicitly, a missing libzstd is an error instead of
    /// a fallback to gzip.</para>
    /// </summary>
    [Parameter]
    public Compression Compression
    {
        get => _compression ?? _defaults.Compression;
        set => _compression = value;
    }

    /// <summary><para type="description">Compression level (zstd 1-22, gzip 1-9); default: the codec's own.</para></summary>
    [Parameter]
    [ValidateRange(1, 22)]
    public int? CompressionLevel { get; set; }

    /// <summary><para type="description">Schemas to look for tenant tables in; default: every user schema.</para></summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary><para type="description">Wildcards of tables (table or schema.table) to keep; default: all in scope.</para></summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? IncludeTable { get; set; }

    /// <summary><para type="description">Wildcards of tables (table or schema.table) to leave out.</para></summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ExcludeTable { get; set; }

    /// <summary><para type="description">Folders of the tenant's files to store in the archive under files/.</para></summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? IncludePath { get; set; }

    /// <summary><para type="description">Free text stored with the backup.</para></summary>
    [Parameter]
    public string? Message { get; set; }

    /// <summary><para type="description">How long to wait for the tenant's lock: seconds (90) or a TimeSpan (00:01:30).
    /// Default 30 s.</para></summary>
    [Parameter]
    [TimeSpanTransformation]
    public TimeSpan LockTimeout { get; set; } = _defaults.LockTimeout;

    /// <summary>
    /// <para type="description">Encrypt the archive (AES-256-GCM, after compression) with the key in this file: 32 random bytes, or their
    /// base64 text (openssl rand -base64 32). The index records the key's id, never the key. Keep the file apart from the backups: without
    /// it the archive cannot be restored.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EncryptionKeyFile { get; set; }

    /// <summary>
    /// <para type="description">Encrypt the archive with this passphrase (a SecureString, e.g. from Read-Host -AsSecureString), stretched
    /// with PBKDF2-SHA256 at 600,000 iterations and a random salt per archive. Give -EncryptionKeyFile or -Passphrase, not both.</para>
    /// </summary>
    [Parameter]
    public SecureString? Passphrase { get; set; }

    /// <summary>Checks the parameters and backs up the current tenant.</summary>
    protected override void ProcessRecord()
    {
        BackupRequest request;
        string repository;
        try
        {
            request = BuildRequest(ResolvePath);
            repository = request.Repository ?? BackupRepository.DefaultPath;
        }
        catch (TenantBackupException ex)
        {
            ThrowEngineError(ex, Tenant);
            return;
        }

        using var key = request.Encryption;

        if (!ShouldProcess(DescribeTarget(request, repository), "Back up tenant"))
        {
            return;
        }

        var backup = RunEngine(
            ProgressActivityId,
            $"Backing up tenant {request.Tenant}",
            request.Tenant,
            (log, progress, token) => new BackupEngine(log).BackupAsync(request, progress, token));
        if (backup is not null)
        {
            WriteObject(backup);
        }
    }

    /// <summary>
    /// The engine request for the current parameter values; paths go through <paramref name="resolvePath"/>
    /// (PowerShell's current location when the command runs; as given when null).
    /// </summary>
    /// <exception cref="TenantBackupException">A parameter value the engine could not use.</exception>
    internal BackupRequest BuildRequest(Func<string, string>? resolvePath = null)
    {
        resolvePath ??= static path => path;
        return new BackupRequest
        {
            ConnectionString = BuildConnectionString(),
            Tenant = Tenant,
            TenantColumn = TenantColumn,
            Repository = Repository is null ? null : resolvePath(Repository),
            Compression = Compression,
            CompressionExplicit = _compression is not null,
            CompressionLevel = CompressionLevel,
            Schemas = Schema ?? [],
            IncludeTables = IncludeTable ?? [],
            ExcludeTables = ExcludeTable ?? [],
            IncludePaths = IncludePath is null ? [] : Array.ConvertAll(IncludePath, path => resolvePath(path)),
            Message = Message,
            LockTimeout = LockTimeout,
            Encryption = EncryptionParameters.KeyFrom(EncryptionKeyFile, Passphrase, resolvePath),
        };
    }

    /// <summary>The ShouldProcess target: tenant, database and repository, never the password.</summary>
    internal static string DescribeTarget(BackupRequest request, string repository)
        => $"Tenant '{request.Tenant}' ({request.TenantColumn}) of {ConnectionStrings.Describe(request.ConnectionString)}"
            + $" into repository '{repository}'";
}
