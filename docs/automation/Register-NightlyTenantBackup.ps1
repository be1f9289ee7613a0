#Requires -Version 7.4
#Requires -RunAsAdministrator
<#
.SYNOPSIS
    Registers a Task Scheduler task that runs Invoke-NightlyTenantBackup.ps1 with pwsh every night.
.DESCRIPTION
    The task runs as -User (a service account with read access to the tenants' tables and write access to the
    repository), whether or not it is logged on. No password of the database is stored in the task: the connection
    string has none, and the account's pgpass file (%APPDATA%\postgresql\pgpass.conf) supplies it.
.EXAMPLE
    ./Register-NightlyTenantBackup.ps1 -TenantFile D:\TenantBackup\tenants.txt -Repository D:\TenantBackup\repo `
        -ConnectionString 'Host=db1;Database=app;Username=backup' -User 'CONTOSO\svc-tenantbackup' -At '02:30'
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)]
    [string] $TenantFile,

    [Parameter(Mandatory)]
    [string] $Repository,

    [string] $ConnectionString,

    # The account the task runs as; asked for its Windows password once, to register the task.
    [Parameter(Mandatory)]
    [string] $User,

    [string] $At = '02:30',

    [string] $TaskName = 'TenantBackup nightly',

    [string] $ScriptPath = (Join-Path $PSScriptRoot 'Invoke-NightlyTenantBackup.ps1')
)

$ErrorActionPreference = 'Stop'
$pwsh = (Get-Command pwsh.exe).Source
$arguments = @(
    '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass'
    '-File', "`"$ScriptPath`""
    '-TenantFile', "`"$TenantFile`""
    '-Repository', "`"$Repository`""
)
if ($ConnectionString) {
    $arguments += '-ConnectionString', "`"$ConnectionString`""
}

$action = New-ScheduledTaskAction -Execute $pwsh -Argument ($arguments -join ' ') -WorkingDirectory (Split-Path $ScriptPath)
$trigger = New-ScheduledTaskTrigger -Daily -At $At
# StartWhenAvailable: a night missed while the machine was off runs as soon as it is back.
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -MultipleInstances IgnoreNew `
    -ExecutionTimeLimit (New-TimeSpan -Hours 6) -RestartCount 1 -RestartInterval (New-TimeSpan -Minutes 30)
$credential = Get-Credential -UserName $User -Message "Windows password of $User, to register the task"

if ($PSCmdlet.ShouldProcess($TaskName, 'Register scheduled task')) {
    Register-ScheduledTask -TaskName $TaskName -TaskPath '\TenantBackup\' -Action $action -Trigger $trigger `
        -Settings $settings -User $credential.UserName -Password $credential.GetNetworkCredential().Password `
        -RunLevel Limited -Description 'Backs up, verifies and prunes every tenant (TenantBackup).' -Force
}
