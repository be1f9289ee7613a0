@{
    RootModule           = 'TenantBackup.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '2520b968-d8cb-4d85-98d2-c40c4d32a265'
    Author               = 'TenantBackup contributors'
    CompanyName          = 'TenantBackup contributors'
    Copyright            = '(c) TenantBackup contributors'
    Description          = 'Backs up one tenant''s rows of a shared, multi-tenant PostgreSQL database into a checksummed archive kept in a backup repository with an index, and restores them into the same tenant or a new one.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    CmdletsToExport      = @('New-TenantBackup', 'Get-TenantBackup', 'Restore-TenantBackup', 'Test-BackupIntegrity', 'Sync-BackupIndex', 'Remove-TenantBackup')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    FormatsToProcess     = @('TenantBackup.Format.ps1xml')
    PrivateData          = @{
        PSData = @{
            ProjectUri   = 'https://github.com/TenantBackup/TenantBackup'
            Tags         = @('PostgreSQL', 'Backup', 'MultiTenant', 'Tenant', 'Npgsql', 'Linux', 'Windows', 'MacOS')
            ReleaseNotes = 'Preview: New-TenantBackup, Get-TenantBackup, Restore-TenantBackup, Test-BackupIntegrity, Sync-BackupIndex and Remove-TenantBackup, with encryption at rest (AES-256-GCM), help, tab completion and -LogPath; dependencies load in a private context.'
        }
    }
}
