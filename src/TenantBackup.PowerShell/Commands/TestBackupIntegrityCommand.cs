using System.Management.Automation;
using System.Security;
using TenantBackup.Engine;
using TenantBackup.Engine.Integrity;
using TenantBackup.PowerShell.Completion;
using TenantBackup.PowerShell.Internal;

namespace TenantBackup.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Checks backups without restoring them: checksums, every entry against the manifest, and
/// optionally a test restore that is always rolled back.</para>
/// <para type="description">Backups come from the pipeline (Get-TenantBackup), from -Id, from -Path, or, with none of
/// them, the whole repository. One IntegrityResult is written per backup: a damaged archive is a result with Status
/// Corrupt, not an error. The repository's index records each check (LastVerifiedAt, LastVerifyResult). -Quick compares
/// the file's SHA-256 only. -RestoreTest restores each valid backup into the database named by -ConnectionString or
/// -Server inside a transaction that is rolled back, and reports whether it would succeed; the connection parameters
/// are used by -RestoreTest alone.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "BackupIntegrity", DefaultParameterSetName = ConnectionStringSet)]
[OutputType(typeof(IntegrityResult))]
public sealed class TestBackupIntegrityCommand : DatabaseCmdlet
{
    private const int ProgressActivityId = 0x7B03;

    private static readonly string[] _connectionParameters =
        [nameof(ConnectionString), nameof(Server), nameof(Port), nameof(Database), nameof(Credential)];

    /// <summary><para type="description">Backups to check, as Get-TenantBackup writes them.</para></summary>
    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public BackupInfo[]? InputObject { get; set; }

    /// <summary><para type="description">Ids of backups in the repository's index. Takes pipeline input by property name.</para></summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupIdCompleter))]
    public string[]? Id { get; set; }

    /// <summary>
    /// <para type="description">Archive files (.tar.zst, .tar.gz, .tar). Takes pipeline input by property name, also from
    /// FullName, so Get-ChildItem output binds.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>
    /// <para type="description">Repository folder (default $env:TENANTBACKUP_REPOSITORY, else a per-user data folder): where
    /// -Id is looked up and each check is recorded.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    /// <summary><para type="description">Compare the archive file's SHA-256 with its .sha256 and the index only.</para></summary>
    [Parameter]
    public SwitchParameter Quick { get; set; }

    /// <summary>
    /// <para type="description">Also restore each valid backup into the database given by -ConnectionString or -Server
    /// (or the PG* variables), in one transaction that is always rolled back: the tenant's data never changes.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter RestoreTest { get; set; }

    /// <summary>
    /// <para type="description">The key file of encrypted archives. Without it an encrypted archive gets only its file checks (sha256-file,
    /// sha256-index); its entry checks are reported as Skipped and its status is not Corrupt. A key that does not match makes the status
    /// Unreadable.</para>
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

    /// <summary>Refuses connection parameters that would be ignored.</summary>
    protected override void BeginProcessing()
    {
        if (!RestoreTest && _connectionParameters.FirstOrDefault(MyInvocation.BoundParameters.ContainsKey) is { } unused)
        {
            ThrowEngineError(
                new TenantBackupException(
                    ErrorCode.InvalidArgument, $"-{unused} is used only with -RestoreTest; add -RestoreTest or leave it out.", unused),
                null);
        }
    }

    /// <summary>Checks the backups of the current pipeline item (or of the command line).</summary>
    protected override void ProcessRecord()
    {
        IntegrityRequest request;
        try
        {
            request = BuildRequest(InputObject, ResolvePath);
        }
        catch (TenantBackupException ex)
        {
            ThrowEngineError(ex, null);
            return;
        }

        using var key = request.Encryption;
        var results = RunEngine(
            ProgressActivityId,
            "Verifying backups",
            (object?)InputObject ?? Path ?? Id,
            (log, progress, token) => new IntegrityEngine(log).VerifyAsync(request, progress, token));
        if (results is not null)
        {
            WriteObject(results, enumerateCollection: true);
        }
    }

    /// <summary>
    /// The engine request for the current parameter values and piped <paramref name="backups"/> (null when none are piped);
    /// paths go through <paramref name="resolvePath"/> (PowerShell's current location; as given when null). A piped backup
    /// is checked by its file when its Path is known, else by its id; -Id and -Path are ignored for piped backups, which
    /// bring the same values by property name. No backup named at all means the whole repository.
    /// </summary>
    /// <exception cref="TenantBackupException">Piped objects that name no backup, or a connection string that cannot be parsed.</exception>
    internal IntegrityRequest BuildRequest(IReadOnlyList<BackupInfo>? backups = null, Func<string, string>? resolvePath = null)
    {
        resolvePath ??= static path => path;
        List<string> ids;
        List<string> paths;
        string? repository = Repository;
        if (backups is { Count: > 0 })
        {
            paths = backups.Select(b => b.Path).Where(p => !string.IsNullOrEmpty(p)).Select(p => resolvePath(p!)).ToList();
            ids = backups.Where(b => string.IsNullOrEmpty(b.Path) && !string.IsNullOrEmpty(b.Id)).Select(b => b.Id!).ToList();
            repository ??= backups.Select(b => b.Repository).FirstOrDefault(r => !string.IsNullOrEmpty(r));
            if (paths.Count == 0 && ids.Count == 0)
            {
                // Checking the whole repository instead would answer a question nobody asked.
                throw new TenantBackupException(
                    ErrorCode.InvalidArgument, "The piped object has neither a Path nor an Id of a backup.", nameof(InputObject));
            }
        }
        else
        {
            paths = (Path ?? []).Select(resolvePath).ToList();
            ids = (Id ?? []).ToList();
        }

        return new IntegrityRequest
        {
            Ids = ids,
            Paths = paths,
            Repository = repository is null ? null : resolvePath(repository),
            Quick = Quick.IsPresent,
            RestoreTest = RestoreTest.IsPresent,
            ConnectionString = RestoreTest ? BuildConnectionString() : null,
            Encryption = EncryptionParameters.KeyFrom(EncryptionKeyFile, Passphrase, resolvePath),
        };
    }
}
