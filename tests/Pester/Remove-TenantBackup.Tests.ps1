#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $null = Import-BuiltModule
    $command = Get-Command -Name Remove-TenantBackup -Module TenantBackup

    # A repository of three backups of tenant 7 (days 1, 2, 3 of November 2026) and one of tenant 8, with dummy archives
    # and .sha256 files: retention and removal need no database.
    function New-TestRepository {
        param([string] $Name)

        $path = Join-Path $TestDrive $Name
        $null = New-Item -ItemType Directory -Path $path
        $backups = foreach ($b in @(@('a', '7', 1), @('b', '7', 2), @('c', '7', 3), @('x', '8', 1))) {
            $file = "tenant-$($b[1])-$($b[0]).tar.zst"
            Set-Content -Path (Join-Path $path $file) -Value "archive $($b[0])"
            Set-Content -Path (Join-Path $path "$file.sha256") -Value "$('a' * 64)  $file"
            @{
                id = $b[0]; tenant = $b[1]; tenantColumn = 'tenant_id'; kind = 'full'; path = $file; size = 10
                sha256 = 'a' * 64; compression = 'zstd'; createdAt = '2026-11-0{0}T02:00:00+00:00' -f $b[2]
                source = @{ database = 'app' }; status = 'available'
            }
        }
        @{ schemaVersion = 1; backups = @($backups) } | ConvertTo-Json -Depth 5 | Set-Content -Path (Join-Path $path 'backups.json')
        $path
    }
}

AfterAll {
    Remove-Module -Name TenantBackup -ErrorAction Ignore
}

Describe 'Remove-TenantBackup' {
    Context 'Validate parameters' {
        It 'has -<Name> of type <Type>' -ForEach @(
            @{ Name = 'InputObject'; Type = 'TenantBackup.Engine.BackupInfo[]' }
            @{ Name = 'Id'; Type = 'string[]' }
            @{ Name = 'Repository'; Type = 'string' }
            @{ Name = 'Tenant'; Type = 'string' }
            @{ Name = 'KeepLast'; Type = 'System.Nullable[int]' }
            @{ Name = 'KeepDaily'; Type = 'System.Nullable[int]' }
            @{ Name = 'KeepWeekly'; Type = 'System.Nullable[int]' }
            @{ Name = 'KeepMonthly'; Type = 'System.Nullable[int]' }
            @{ Name = 'OlderThan'; Type = 'System.Nullable[timespan]' }
            @{ Name = 'Force'; Type = 'switch' }
            @{ Name = 'LogPath'; Type = 'string' }
        ) {
            $command | Should -HaveParameter $Name -Type $Type
        }

        It 'is a high-impact change with -WhatIf and -Confirm' {
            $command | Should -HaveParameter WhatIf
            $command | Should -HaveParameter Confirm
            $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
                Should -Be 'High'
        }

        It 'declares PruneDecision as its output' {
            $command.OutputType.Type | Should -Be ([TenantBackup.Engine.Repository.PruneDecision])
        }
    }

    Context 'Error ids' {
        It 'refuses a policy without rules with InvalidArgument' {
            $repository = New-TestRepository 'norule'

            { Remove-TenantBackup -Repository $repository -Confirm:$false } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.RemoveTenantBackupCommand'
            (Get-TenantBackup -Repository $repository).Count | Should -Be 4
        }

        It 'refuses an unknown id with ArchiveNotFound and removes nothing' {
            $repository = New-TestRepository 'unknown'

            { Remove-TenantBackup -Repository $repository -Id 'a', 'nope' -Confirm:$false } |
                Should -Throw -ErrorId 'ArchiveNotFound,TenantBackup.PowerShell.Commands.RemoveTenantBackupCommand'
            (Get-TenantBackup -Repository $repository).Count | Should -Be 4
        }
    }

    Context 'Pipeline binding' {
        It 'takes BackupInfo objects by value and -Id and -Repository by property name' {
            $attributes = $command.Parameters['InputObject'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $attributes.ValueFromPipeline | Should -BeTrue
            foreach ($name in 'Id', 'Repository') {
                $attributes = $command.Parameters[$name].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
                $attributes.ValueFromPipelineByPropertyName | Should -BeTrue
            }
        }

        It 'takes backups from Get-TenantBackup and keeps the newest valid one without -Force' {
            $repository = New-TestRepository 'pipeline'

            $decisions = Get-TenantBackup -Repository $repository -Tenant 7 | Remove-TenantBackup -Confirm:$false

            ($decisions | Where-Object Removed).Id | Sort-Object | Should -Be @('a', 'b')
            (Get-TenantBackup -Repository $repository -Tenant 7).Id | Should -Be 'c'

            Get-TenantBackup -Repository $repository -Tenant 7 | Remove-TenantBackup -Force
            Get-TenantBackup -Repository $repository -Tenant 7 | Should -BeNullOrEmpty
        }
    }

    Context '-WhatIf' {
        It 'lists every decision with its reasons and writes nothing' {
            $repository = New-TestRepository 'whatif'
            $before = Get-Content -Raw -Path (Join-Path $repository 'backups.json')

            $decisions = Remove-TenantBackup -Repository $repository -KeepLast 1 -WhatIf

            $decisions.Count | Should -Be 4
            ($decisions | Where-Object Action -EQ 'Remove').Id | Sort-Object | Should -Be @('a', 'b')
            ($decisions | Where-Object Id -EQ 'c').Reasons | Should -Contain 'newest valid backup of the tenant'
            Get-Content -Raw -Path (Join-Path $repository 'backups.json') | Should -Be $before
            Test-Path (Join-Path $repository 'tenant-7-a.tar.zst') | Should -BeTrue
        }
    }

    Context 'Removal in $TestDrive' {
        It 'removes archive, .sha256 and entry together, by policy with -OlderThan in days' {
            $repository = New-TestRepository 'policy'

            $decisions = Remove-TenantBackup -Repository $repository -Tenant 7 -KeepLast 1 -OlderThan '1d' -Confirm:$false

            ($decisions | Where-Object Removed).Id | Sort-Object | Should -Be @('a', 'b')
            (Get-TenantBackup -Repository $repository).Id | Sort-Object | Should -Be @('c', 'x')
            Test-Path (Join-Path $repository 'tenant-7-a.tar.zst.sha256') | Should -BeFalse
        }
    }
}
