namespace TenantBackup.Engine.Repository;

/// <summary>A folder of archives with its index, <c>backups.json</c>.</summary>
public sealed class BackupRepository
{
    private BackupRepository(string root) => Root = root;

    /// <summary>Full path of the folder.</summary>
    public string Root { get; }

    /// <summary>
    /// The folder used when none is given: <c>$TENANTBACKUP_REPOSITORY</c>, else a per-platform data folder
    /// (<c>$XDG_DATA_HOME/tenantbackup</c> or <c>~/.local/share/tenantbackup</c>; <c>%LOCALAPPDATA%\TenantBackup</c> on Windows).
    /// </summary>
    public static string DefaultPath => throw new NotImplementedException();

    /// <summary>Opens (and with <paramref name="create"/>, creates) the repository at <paramref name="path"/> or the default.</summary>
    public static BackupRepository Open(string? path, bool create = false) => throw new NotImplementedException();

    /// <summary>Backups in the index, oldest first, optionally of one tenant only.</summary>
    public IReadOnlyList<BackupInfo> List(string? tenant = null) => throw new NotImplementedException();
}
