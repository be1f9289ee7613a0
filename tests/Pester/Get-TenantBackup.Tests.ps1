#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $null = Import-BuiltModule
    $command = Get-Command -Name Get-TenantBackup -Module TenantBackup

    function New-EmptyRepository {
        param([string] $Name)

        $path = Join-Path $TestDrive $Name
        $null = [TenantBackup.Engine.Repository.BackupRepository]::Open($path, $true)
        $path
    }
}

AfterAll {
    Remove-Module -Name TenantBackup -ErrorAction Ignore
}

Describe 'Get-TenantBackup' {
    Context 'Validate parameters' {
        It 'has -<Name> of type <Type>' -ForEach @(
            @{ Name = 'Repository'; Type = 'string' }
            @{ Name = 'Tenant'; Type = 'string[]' }
            @{ Name = 'Id'; Type = 'string[]' }
            @{ Name = 'Latest'; Type = 'switch' }
            @{ Name = 'Kind'; Type = 'string[]' }
            @{ Name = 'LogPath'; Type = 'string' }
        ) {
            $command | Should -HaveParameter $Name -Type $Type
            $command | Should -HaveParameter $Name -Mandatory:$false
        }

        It 'binds -<Name> by property name' -ForEach @(
            @{ Name = 'Repository' }
            @{ Name = 'Tenant' }
            @{ Name = 'Id' }
        ) {
            $parameter = $command.Parameters[$Name].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $parameter.ValueFromPipelineByPropertyName | Should -BeTrue
        }

        It 'accepts only the backup kinds in -Kind' {
            $set = $command.Parameters['Kind'].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
            $set.ValidValues | Sort-Object | Should -Be @('full', 'pre-restore')
        }

        It 'changes nothing, so it has no -WhatIf' {
            $command | Should -Not -HaveParameter WhatIf
        }

        It 'declares BackupInfo as its output' {
            $command.OutputType.Type | Should -Be ([TenantBackup.Engine.BackupInfo])
        }
    }

    Context 'Error ids' {
        It 'writes a non-terminating ArchiveNotFound for an id that matches nothing' {
            $repository = New-EmptyRepository 'ids'

            $result = Get-TenantBackup -Repository $repository -Id '01JB0000000000000000000000', '01JC*' -ErrorVariable failures -ErrorAction SilentlyContinue

            $result | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'ArchiveNotFound,TenantBackup.PowerShell.Commands.GetTenantBackupCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].TargetObject | Should -Be '01JB0000000000000000000000'
        }

        It 'refuses an unknown -Kind' {
            { Get-TenantBackup -Repository $TestDrive -Kind weekly } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,TenantBackup.PowerShell.Commands.GetTenantBackupCommand'
        }
    }

    Context 'An empty repository in $TestDrive' {
        It 'lists nothing and reports nothing' {
            $repository = New-EmptyRepository 'empty'

            Get-TenantBackup -Repository $repository -ErrorVariable failures | Should -BeNullOrEmpty
            $failures | Should -BeNullOrEmpty
        }

        It 'is not changed by New-TenantBackup -WhatIf' {
            $repository = New-EmptyRepository 'whatif'

            New-TenantBackup -ConnectionString 'Host=db1.invalid' -Tenant 42 -Repository $repository -WhatIf
            Get-TenantBackup -Repository $repository | Should -BeNullOrEmpty
        }
    }

    Context 'Pipeline binding' {
        It 'takes -Id, -Tenant and -Repository from a piped object by property name' {
            $repository = New-EmptyRepository 'piped'

            [pscustomobject]@{ Id = '01JD0000000000000000000000'; Tenant = '42'; Repository = $repository } |
                Get-TenantBackup -ErrorVariable failures -ErrorAction SilentlyContinue

            # The id reached the command (it is named in the error) and so did the repository (an empty one: no match).
            $failures.Count | Should -Be 1
            $failures[0].TargetObject | Should -Be '01JD0000000000000000000000'
        }
    }

    Context 'Against a database' {
        BeforeAll {
            if (-not $NoDatabase) {
                $schema = New-TestSchema
                $repository = Join-Path $TestDrive 'db'
                $first = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
                $second = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
                $other = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 2 -Repository $repository
            }
        }

        AfterAll {
            if (-not $NoDatabase) {
                Remove-TestSchema $schema
            }
        }

        It 'lists every backup, oldest first' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            (Get-TenantBackup -Repository $repository).Id | Should -Be @($first.Id, $second.Id, $other.Id)
        }

        It 'filters by tenant' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            (Get-TenantBackup -Repository $repository -Tenant 1).Id | Should -Be @($first.Id, $second.Id)
        }

        It '-Latest keeps the newest backup of each tenant' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            (Get-TenantBackup -Repository $repository -Latest).Id | Should -Be @($second.Id, $other.Id)
        }

        It 'finds backups by id wildcard' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            (Get-TenantBackup -Repository $repository -Id ($other.Id.Substring(0, 20) + '*')).Id | Should -Contain $other.Id
        }

        It 'returns what New-TenantBackup returned, through the pipeline' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $found = $second | Get-TenantBackup
            $found.Id | Should -Be $second.Id
            $found.Sha256 | Should -Be $second.Sha256
            $found.Path | Should -Be $second.Path
        }
    }
}
