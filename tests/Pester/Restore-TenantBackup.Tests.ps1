#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $null = Import-BuiltModule
    $command = Get-Command -Name Restore-TenantBackup -Module TenantBackup

    # Refuses connections at once, for the tests that must fail before or without a database.
    $unreachable = 'Host=127.0.0.1;Port=1;Database=app'

    function Get-CustomerRows {
        param([string] $Schema, [int] $Tenant)

        Invoke-TestSql -Scalar "SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM $Schema.customers WHERE tenant_id = $Tenant"
    }
}

AfterAll {
    Remove-Module -Name TenantBackup -ErrorAction Ignore
}

Describe 'Restore-TenantBackup' {
    Context 'Validate parameters' {
        It 'has -<Name> of type <Type>' -ForEach @(
            @{ Name = 'InputObject'; Type = 'TenantBackup.Engine.BackupInfo[]' }
            @{ Name = 'Id'; Type = 'string' }
            @{ Name = 'Path'; Type = 'string' }
            @{ Name = 'Repository'; Type = 'string' }
            @{ Name = 'ConnectionString'; Type = 'string' }
            @{ Name = 'Server'; Type = 'string' }
            @{ Name = 'Port'; Type = 'System.Nullable[int]' }
            @{ Name = 'Database'; Type = 'string' }
            @{ Name = 'Credential'; Type = 'pscredential' }
            @{ Name = 'TargetTenant'; Type = 'string' }
            @{ Name = 'RootValues'; Type = 'System.Collections.IDictionary' }
            @{ Name = 'Mode'; Type = 'TenantBackup.Engine.RestoreMode' }
            @{ Name = 'KeyCollision'; Type = 'TenantBackup.Engine.KeyCollisionAction' }
            @{ Name = 'NoPreBackup'; Type = 'switch' }
            @{ Name = 'DisableTriggers'; Type = 'switch' }
            @{ Name = 'IncludeTable'; Type = 'string[]' }
            @{ Name = 'ExcludeTable'; Type = 'string[]' }
            @{ Name = 'FilesPath'; Type = 'string' }
            @{ Name = 'SkipFiles'; Type = 'switch' }
            @{ Name = 'LockTimeout'; Type = 'timespan' }
            @{ Name = 'Force'; Type = 'switch' }
            @{ Name = 'LogPath'; Type = 'string' }
            @{ Name = 'EncryptionKeyFile'; Type = 'string' }
            @{ Name = 'Passphrase'; Type = 'securestring' }
        ) {
            $command | Should -HaveParameter $Name -Type $Type
        }

        It 'names the backup by -InputObject (pipeline), -Id (position 0) or -Path, none of them mandatory' {
            $command | Should -HaveParameter InputObject -Mandatory:$false
            $command | Should -HaveParameter Id -Mandatory:$false
            $command | Should -HaveParameter Path -Mandatory:$false
            $inputObject = $command.Parameters['InputObject'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $inputObject.ValueFromPipeline | Should -BeTrue
            $id = $command.Parameters['Id'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $id.Position | Should -Be 0
            $command.Parameters['Path'].Aliases | Should -Contain 'FullName'
        }

        It 'has the ConnectionString set (default) and the Server set, like New-TenantBackup' {
            $command.ParameterSets.Name | Sort-Object | Should -Be @('ConnectionString', 'Server')
            $command.DefaultParameterSet | Should -Be 'ConnectionString'
        }

        It 'is a High-impact change with -WhatIf, -Confirm and -Force' {
            $command | Should -HaveParameter WhatIf
            $command | Should -HaveParameter Confirm
            $command | Should -HaveParameter Force
            $attribute = $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)
            $attribute.ConfirmImpact | Should -Be 'High'
        }

        It 'declares RestoreResult and RestorePlan as its output' {
            $command.OutputType.Type | Should -Be @([TenantBackup.Engine.RestoreResult], [TenantBackup.Engine.RestorePlan])
        }
    }

    Context 'Error ids' {
        It 'stops with InvalidArgument when no backup is named' {
            { Restore-TenantBackup -ConnectionString $unreachable -Force } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
        }

        It 'stops with InvalidArgument for -Id and -Path together' {
            { Restore-TenantBackup -ConnectionString $unreachable -Id 0001 -Path (Join-Path $TestDrive 'a.tar.zst') -Force } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
        }

        It 'stops with InvalidArgument on a connection string it cannot parse, without showing the password' {
            $record = $null
            try {
                Restore-TenantBackup -ConnectionString 'Host=db1;Password=S3cr3t;Port=abc' -Id 0001 -Force
            }
            catch {
                $record = $_
            }

            $record.FullyQualifiedErrorId | Should -Be 'InvalidArgument,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
            ($record | Out-String) + $record.Exception.Message | Should -Not -Match 'S3cr3t'
        }

        It 'refuses -ConnectionString together with -Server' {
            { Restore-TenantBackup -ConnectionString 'Host=a' -Server b -Id 0001 } |
                Should -Throw -ErrorId 'AmbiguousParameterSet,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
        }

        It 'refuses an unknown -Mode and a negative -LockTimeout' {
            { Restore-TenantBackup -ConnectionString $unreachable -Id 0001 -Mode upsert -Force } |
                Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
            { Restore-TenantBackup -ConnectionString $unreachable -Id 0001 -LockTimeout -5 -Force } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
        }

        It 'writes a non-terminating ArchiveNotFound for a missing archive, before connecting, and goes on' {
            $missing = (Join-Path $TestDrive 'missing-1.tar.zst'), (Join-Path $TestDrive 'missing-2.tar.zst')

            $missing | ForEach-Object { [pscustomobject]@{ Path = $_ } } |
                Restore-TenantBackup -ConnectionString $unreachable -Force -ErrorVariable failures -ErrorAction SilentlyContinue

            $failures.Count | Should -Be 2
            $failures | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'ArchiveNotFound,*' }
        }

        It 'writes a non-terminating KeyCollision when -KeyCollision Fail meets keys of another tenant' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $schema = New-TestSchema
            try {
                $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository (Join-Path $TestDrive 'collide')
                $before = Get-CustomerRows -Schema $schema -Tenant 3

                $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -TargetTenant 3 -KeyCollision Fail -Force `
                    -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

                $failures.Count | Should -Be 1
                $failures[0].FullyQualifiedErrorId | Should -Be 'KeyCollision,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
                Get-CustomerRows -Schema $schema -Tenant 3 | Should -Be $before
            }
            finally {
                Remove-TestSchema $schema
            }
        }
    }

    Context '-WhatIf' {
        It 'plans instead of printing "What if:", so a missing archive is reported' {
            $missing = Join-Path $TestDrive 'missing.tar.zst'

            { Restore-TenantBackup -ConnectionString $unreachable -Path $missing -WhatIf -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArchiveNotFound,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
            $missing | Should -Not -Exist
        }

        It 'returns the plan as an object and changes nothing' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $schema = New-TestSchema
            try {
                $repository = Join-Path $TestDrive 'whatif'
                $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
                Invoke-TestSql "DELETE FROM $schema.customers WHERE tenant_id = 1 AND id % 3 = 0"
                $before = Get-CustomerRows -Schema $schema -Tenant 1
                $index = Get-Content -Raw -LiteralPath (Join-Path $repository 'backups.json')

                $plan = $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -WhatIf

                $plan | Should -BeOfType ([TenantBackup.Engine.RestorePlan])
                $plan.CanRestore | Should -BeTrue
                $plan.Mode | Should -Be 'Replace'
                ($plan.Tables | Where-Object Table -EQ "$schema.customers").Insert | Should -Be 50
                Get-CustomerRows -Schema $schema -Tenant 1 | Should -Be $before
                Get-Content -Raw -LiteralPath (Join-Path $repository 'backups.json') | Should -Be $index
            }
            finally {
                Remove-TestSchema $schema
            }
        }
    }

    Context 'Pipeline binding' {
        It 'binds -Id, -Path and -Repository by property name' -ForEach @(
            @{ Name = 'Id' }
            @{ Name = 'Path' }
            @{ Name = 'Repository' }
        ) {
            $parameter = $command.Parameters[$Name].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $parameter.ValueFromPipelineByPropertyName | Should -BeTrue
        }

        It 'takes the id of a piped object (shown by the clash with an explicit -Path)' {
            { [pscustomobject]@{ Id = '0001' } | Restore-TenantBackup -ConnectionString $unreachable -Path (Join-Path $TestDrive 'a.tar.zst') -Force } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
        }

        It 'takes archive files from Get-ChildItem through FullName (shown by the clash with an explicit -Id)' {
            $file = New-Item -ItemType File -Path (Join-Path $TestDrive 'piped.tar.zst')
            { $file | Restore-TenantBackup -ConnectionString $unreachable -Id 0001 -Force } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
        }

        It 'restores what Get-TenantBackup -Latest pipes in' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $schema = New-TestSchema
            try {
                $repository = Join-Path $TestDrive 'latest'
                $null = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
                $before = Get-CustomerRows -Schema $schema -Tenant 1
                Invoke-TestSql "UPDATE $schema.customers SET name = 'changed' WHERE tenant_id = 1"

                $result = Get-TenantBackup -Repository $repository -Tenant 1 -Latest |
                    Restore-TenantBackup -ConnectionString $DatabaseConnection -Force

                $result | Should -BeOfType ([TenantBackup.Engine.RestoreResult])
                Get-CustomerRows -Schema $schema -Tenant 1 | Should -Be $before
            }
            finally {
                Remove-TestSchema $schema
            }
        }
    }

    Context 'Against a database' {
        BeforeAll {
            if (-not $NoDatabase) {
                $schema = New-TestSchema
                $repository = Join-Path $TestDrive 'db'
                $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
                $original = Get-CustomerRows -Schema $schema -Tenant 1
                $otherTenant = Get-CustomerRows -Schema $schema -Tenant 2
            }
        }

        AfterAll {
            if (-not $NoDatabase) {
                Remove-TestSchema $schema
            }
        }

        It 'puts the tenant back as it was backed up, and leaves the other tenant alone' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            Invoke-TestSql "UPDATE $schema.customers SET name = 'changed' WHERE tenant_id = 1 AND id % 2 = 1;
                DELETE FROM $schema.customers WHERE tenant_id = 1 AND id % 5 = 0;
                INSERT INTO $schema.customers (tenant_id, name) VALUES (1, 'new one');"

            $result = Restore-TenantBackup -ConnectionString $DatabaseConnection -Id $backup.Id -Repository $repository -Force

            $result.BackupId | Should -Be $backup.Id
            $result.TargetTenant | Should -Be '1'
            $result.Mode | Should -Be 'Replace'
            $result.PreRestoreBackupId | Should -Not -BeNullOrEmpty
            Get-CustomerRows -Schema $schema -Tenant 1 | Should -Be $original
            Get-CustomerRows -Schema $schema -Tenant 2 | Should -Be $otherTenant
        }

        It 'undoes a restore by restoring its pre-restore backup' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            Invoke-TestSql "UPDATE $schema.customers SET name = name || ' (edited)' WHERE tenant_id = 1"
            $edited = Get-CustomerRows -Schema $schema -Tenant 1

            $restore = $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -Force
            Get-CustomerRows -Schema $schema -Tenant 1 | Should -Be $original

            $null = Restore-TenantBackup -ConnectionString $DatabaseConnection -Id $restore.PreRestoreBackupId -Repository $repository -Force
            Get-CustomerRows -Schema $schema -Tenant 1 | Should -Be $edited
        }

        It 'clones the tenant into a new one with -TargetTenant, giving colliding keys new values' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $null = Restore-TenantBackup -ConnectionString $DatabaseConnection -Path $backup.Path -Repository $repository -TargetTenant 3 -Force
            $clone = $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -TargetTenant 4 -Force

            $clone.TargetTenant | Should -Be '4'
            $clone.Remapped | Should -BeGreaterThan 0
            Get-CustomerRows -Schema $schema -Tenant 3 | Should -Be $original
            Get-CustomerRows -Schema $schema -Tenant 4 | Should -Be $original
            Get-CustomerRows -Schema $schema -Tenant 2 | Should -Be $otherTenant
            Invoke-TestSql -Scalar "SELECT count(*) FROM $schema.tenants WHERE id IN (3, 4)" | Should -Be 2
        }

        It 'sets the clone''s root row with -RootValues, and refuses a column the root table does not have' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $clone = $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -TargetTenant 5 -RootValues @{ name = 'five' } -Force

            $clone.TargetTenant | Should -Be '5'
            Invoke-TestSql -Scalar "SELECT name FROM $schema.tenants WHERE id = 5" | Should -Be 'five'
            Get-CustomerRows -Schema $schema -Tenant 5 | Should -Be $original
            { $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -TargetTenant 6 -RootValues @{ slug = 'six' } -Force } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.RestoreTenantBackupCommand'
            Invoke-TestSql -Scalar "SELECT count(*) FROM $schema.tenants WHERE id = 6" | Should -Be 0
        }

        It 'records the restore in the repository and shows in the default table view' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $result = $backup | Restore-TenantBackup -ConnectionString $DatabaseConnection -Force
            ($result | Format-Table | Out-String) | Should -Match ([regex]::Escape($backup.Id))
            Get-Content -Raw -LiteralPath (Join-Path $repository 'backups.json') | Should -Match ([regex]::Escape($result.Id))
        }
    }
}
