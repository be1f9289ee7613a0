#Requires -Version 7.4
<#
.SYNOPSIS
    Backs up every tenant, verifies each backup (quick check), then prunes by the retention policy.
.DESCRIPTION
    Run by the scheduled task that Register-NightlyTenantBackup.ps1 creates, or by hand. Writes a transcript to
    -LogPath. Exits 0 when every tenant was backed up and verified and the prune succeeded, 1 otherwise, so Task
    Scheduler's "Last Run Result" shows a failure.

    The connection comes from -ConnectionString (without a password), else from the PG* environment variables; the
    password from the task account's pgpass file (%APPDATA%\postgresql\pgpass.conf) or PGPASSFILE.
.EXAMPLE
    ./Invoke-NightlyTenantBackup.ps1 -TenantFile D:\TenantBackup\tenants.txt -Repository D:\TenantBackup\repo `
        -ConnectionString 'Host=db1;Database=app;Username=backup'
#>
[CmdletBinding()]
param(
    # Tenants to back up, one value each.
    [string[]] $Tenant,

    # A text file with one tenant value per line (blank lines and lines starting with # are skipped).
    [string] $TenantFile,

    [Parameter(Mandatory)]
    [string] $Repository,

    # Npgsql connection string without a password; default: the PG* variables.
    [string] $ConnectionString,

    [string] $LogPath = (Join-Path $Repository 'logs' "nightly-$(Get-Date -Format 'yyyyMMdd').log"),

    [int] $KeepDaily = 7,
    [int] $KeepWeekly = 4,
    [int] $KeepMonthly = 12
)

$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory -Path (Split-Path $LogPath) -Force | Out-Null
Start-Transcript -Path $LogPath -Append | Out-Null
$failed = [System.Collections.Generic.List[string]]::new()
try {
    Import-Module TenantBackup

    $tenants = @($Tenant)
    if ($TenantFile) {
        $tenants += Get-Content -LiteralPath $TenantFile | Where-Object { $_ -and -not $_.StartsWith('#') } | ForEach-Object Trim
    }
    $tenants = @($tenants | Where-Object { $_ } | Select-Object -Unique)
    if ($tenants.Count -eq 0) {
        throw 'No tenants given: use -Tenant or -TenantFile.'
    }

    $connection = @{}
    if ($ConnectionString) {
        $connection.ConnectionString = $ConnectionString
    }

    foreach ($t in $tenants) {
        # One tenant at a time, so one failure is reported and the others still run.
        try {
            $result = $t |
                New-TenantBackup @connection -Repository $Repository -Message 'nightly' -ErrorAction Stop |
                Test-BackupIntegrity -Quick -ErrorAction Stop
            if ($result.Passed) {
                Write-Host "tenant ${t}: backup $($result.Id) verified"
            }
            else {
                Write-Warning "tenant ${t}: backup $($result.Id) is $($result.Status): $($result.Problems -join '; ')"
                $failed.Add($t)
            }
        }
        catch {
            Write-Warning "tenant ${t}: $($_.Exception.Message)"
            $failed.Add($t)
        }
    }

    # Retention runs even when a tenant failed: its newest valid backup is never removed without -Force.
    try {
        $decisions = Remove-TenantBackup -Repository $Repository -KeepDaily $KeepDaily -KeepWeekly $KeepWeekly `
            -KeepMonthly $KeepMonthly -Confirm:$false -ErrorAction Stop
        Write-Host "prune: $(@($decisions | Where-Object Removed).Count) backup(s) removed"
    }
    catch {
        Write-Warning "prune: $($_.Exception.Message)"
        $failed.Add('(prune)')
    }
}
catch {
    Write-Warning $_.Exception.Message
    $failed.Add('(setup)')
}
finally {
    if ($failed.Count -gt 0) {
        Write-Warning "FAILED: $($failed -join ', ')"
    }
    Stop-Transcript | Out-Null
}

exit ([int]($failed.Count -gt 0))
