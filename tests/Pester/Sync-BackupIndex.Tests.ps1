#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $null = Import-BuiltModule
    $command = Get-Command -Name Sync-BackupIndex -Module TenantBackup

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

Describe 'Sync-BackupIndex' {
    Context 'Validate parameters' {
        It 'has -<Name> of type <Type>' -ForEach @(
            @{ Name = 'Repository'; Type = 'string' }
            @{ Name = 'Tenant'; Type = 'string' }
            @{ Name = 'Apply'; Type = 'switch' }
            @{ Name = 'LogPath'; Type = 'string' }
            @{ Name = 'EncryptionKeyFile'; Type = 'string' }
            @{ Name = 'Passphrase'; Type = 'securestring' }
        ) {
            $command | Should -HaveParameter $Name -Type $Type
            $command | Should -HaveParameter $Name -Mandatory:$false
        }

        It 'takes -Tenant at position 0' {
            $tenant = $command.Parameters['Tenant'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $tenant.Position | Should -Be 0
        }

        It 'writes with -Apply, so it has -WhatIf and -Confirm' {
            $command | Should -HaveParameter WhatIf
            $command | Should -HaveParameter Confirm
        }

        It 'declares IndexDiscrepancy as its output' {
            $command.OutputType.Type | Should -Be ([TenantBackup.Engine.Repository.IndexDiscrepancy])
        }
    }

    Context 'Error ids' {
        It 'ends with RepositoryError for a folder that does not exist' {
            { Sync-BackupIndex -Repository (Join-Path $TestDrive 'nowhere') } |
                Should -Throw -ErrorId 'RepositoryError,TenantBackup.PowerShell.Commands.SyncBackupIndexCommand'
        }

        It 'ends with IndexCorrupt for an unreadable index, and leaves it as it was' {
            $repository = New-EmptyRepository 'corrupt'
            $index = Join-Path $repository 'backups.json'
            Set-Content -Path $index -Value '{"schemaVersion": 1, "backups": [' -NoNewline

            { Sync-BackupIndex -Repository $repository } |
                Should -Throw -ErrorId 'IndexCorrupt,TenantBackup.PowerShell.Commands.SyncBackupIndexCommand'
            Get-Content -Path $index -Raw | Should -Be '{"schemaVersion": 1, "backups": ['
        }

        It 'sets an unreadable index aside with -Apply and says so' {
            $repository = New-EmptyRepository 'rebuild'
            Set-Content -Path (Join-Path $repository 'backups.json') -Value 'not json'

            $found = Sync-BackupIndex -Repository $repository -Apply -Confirm:$false

            $found.Kind | Should -Be 'IndexCorrupt'
            $found.Applied | Should -BeTrue
            Get-ChildItem -Path $repository -Filter 'backups.json.corrupt-*' | Should -HaveCount 1
        }
    }

    Context 'Pipeline binding' {
        It 'takes no pipeline input: one run compares the whole repository' {
            $command.Parameters.Values.Attributes |
                Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and ($_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName) } |
                Should -BeNullOrEmpty
        }
    }

    Context 'A repository in $TestDrive' {
        It 'reports nothing for an empty repository' {
            Sync-BackupIndex -Repository (New-EmptyRepository 'empty') | Should -BeNullOrEmpty
        }

        It 'does not write with -Apply -WhatIf' {
            $repository = New-EmptyRepository 'whatif'
            Set-Content -Path (Join-Path $repository 'backups.json') -Value 'not json'

            { Sync-BackupIndex -Repository $repository -Apply -WhatIf } |
                Should -Throw -ErrorId 'IndexCorrupt,TenantBackup.PowerShell.Commands.SyncBackupIndexCommand'
            Get-ChildItem -Path $repository -Filter 'backups.json.corrupt-*' | Should -BeNullOrEmpty
        }
    }

    Context 'Against a database' {
        BeforeAll {
            if (-not $NoDatabase) {
                $schema = New-TestSchema
                $repository = Join-Path $TestDrive 'db'
                $kept = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
                $gone = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 2 -Repository $repository
                Remove-Item -Path $gone.Path
            }
        }

        AfterAll {
            if (-not $NoDatabase) {
                Remove-TestSchema $schema
            }
        }

        It 'reports the missing file without writing, repairs it with -Apply, then reports nothing' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $found = Sync-BackupIndex -Repository $repository
            $found.Kind | Should -Be 'Missing'
            $found.Id | Should -Be $gone.Id
            (Get-TenantBackup -Repository $repository -Id $gone.Id).Status | Should -Be 'available'

            Sync-BackupIndex -Repository $repository -Tenant 1 -Apply -Confirm:$false | Should -BeNullOrEmpty
            (Sync-BackupIndex -Repository $repository -Apply -Confirm:$false).Applied | Should -BeTrue
            (Get-TenantBackup -Repository $repository -Id $gone.Id).Status | Should -Be 'missing'
            (Get-TenantBackup -Repository $repository -Id $kept.Id).Status | Should -Be 'available'
            Sync-BackupIndex -Repository $repository | Should -BeNullOrEmpty
        }
    }

    Context 'Run log' {
        It 'appends one JSON object per line to -LogPath, the last with the outcome' {
            $repository = New-EmptyRepository -Name 'logged'
            $log = Join-Path $TestDrive 'run.jsonl'

            $null = Sync-BackupIndex -Repository $repository -LogPath $log
            $null = Sync-BackupIndex -Repository $repository -LogPath $log

            $lines = @(Get-Content -LiteralPath $log | ConvertFrom-Json)
            @($lines | Where-Object outcome -EQ 'ok').Count | Should -Be 2
            $lines | ForEach-Object { $_.cmdlet | Should -Be 'Sync-BackupIndex' }
            $lines[-1].outcome | Should -Be 'ok'
        }
    }
}
