#Requires -Version 7.4
<#
.SYNOPSIS
    Desired state "tenant X has a valid backup younger than N hours", with Get, Test and Set, as DSC expects.
.DESCRIPTION
    -Mode Get  returns a hashtable: the newest backup of the tenant (Id, CreatedAt, Status, LastVerifyResult), its
               age in hours and whether it is in the desired state (Result).
    -Mode Test returns $true when the newest backup of the tenant is available, its last verification is Valid, and
               it is younger than -MaxAgeHours; $false otherwise. It changes nothing.
    -Mode Set  takes one backup and verifies it (full check), when Test is $false; it does nothing when Test is
               $true. It throws when the backup or the verification fails, so the caller sees the failure.
    Running Set twice in a row takes at most one backup: that is the idempotence DSC and Ansible rely on.
.EXAMPLE
    ./Invoke-TenantBackupState.ps1 -Mode Test -Tenant 42 -MaxAgeHours 24 -Repository D:\TenantBackup\repo
.EXAMPLE
    # From a DSC Script resource (PSDscResources), with the script copied to C:\TenantBackup:
    Script Tenant42Backup {
        GetScript  = { & C:\TenantBackup\Invoke-TenantBackupState.ps1 -Mode Get -Tenant 42 -Repository D:\TenantBackup\repo }
        TestScript = { & C:\TenantBackup\Invoke-TenantBackupState.ps1 -Mode Test -Tenant 42 -Repository D:\TenantBackup\repo }
        SetScript  = { & C:\TenantBackup\Invoke-TenantBackupState.ps1 -Mode Set -Tenant 42 -Repository D:\TenantBackup\repo }
    }
#>
[CmdletBinding()]
[OutputType([hashtable], [bool])]
param(
    [Parameter(Mandatory)]
    [ValidateSet('Get', 'Test', 'Set')]
    [string] $Mode,

    [Parameter(Mandatory)]
    [string] $Tenant,

    [ValidateRange(1, 8760)]
    [int] $MaxAgeHours = 24,

    [string] $Repository,

    # Npgsql connection string without a password; default: the PG* variables and the pgpass file.
    [string] $ConnectionString,

    [string] $Message = 'desired state'
)

$ErrorActionPreference = 'Stop'
Import-Module TenantBackup

$repositoryParameter = @{}
if ($Repository) {
    $repositoryParameter.Repository = $Repository
}

function Get-State {
    $latest = Get-TenantBackup -Tenant $Tenant -Latest @repositoryParameter
    if (-not $latest) {
        return @{ Tenant = $Tenant; Id = $null; CreatedAt = $null; Status = $null; LastVerifyResult = $null; AgeHours = $null; Result = $false }
    }

    $age = ([DateTimeOffset]::UtcNow - $latest.CreatedAt).TotalHours
    $inState = $latest.Status -eq 'available' -and $latest.LastVerifyResult -eq 'Valid' -and $age -lt $MaxAgeHours
    return @{
        Tenant           = $Tenant
        Id               = $latest.Id
        CreatedAt        = $latest.CreatedAt
        Status           = $latest.Status
        LastVerifyResult = $latest.LastVerifyResult
        AgeHours         = [math]::Round($age, 1)
        Result           = $inState
    }
}

switch ($Mode) {
    'Get' {
        Get-State
    }
    'Test' {
        (Get-State).Result
    }
    'Set' {
        if ((Get-State).Result) {
            Write-Verbose "Tenant $Tenant already has a valid backup younger than $MaxAgeHours hours."
            return
        }

        $connection = @{}
        if ($ConnectionString) {
            $connection.ConnectionString = $ConnectionString
        }

        $backup = New-TenantBackup -Tenant $Tenant -Message $Message @connection @repositoryParameter -Confirm:$false
        $check = $backup | Test-BackupIntegrity
        if (-not $check.Passed) {
            throw "Backup $($backup.Id) of tenant $Tenant failed verification: $($check.Problems -join '; ')"
        }
        Write-Verbose "Tenant ${Tenant}: backup $($backup.Id) taken and verified."
    }
}
