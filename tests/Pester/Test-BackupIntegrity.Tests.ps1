#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $null = Import-BuiltModule
    $command = Get-Command -Name Test-BackupIntegrity -Module TenantBackup
}

AfterAll {
    Remove-Module -Name TenantBackup -ErrorAction Ignore
}

Describe 'Test-BackupIntegrity' {
    Context 'Validate parameters' {
        It 'has -<Name> of type <Type>' -ForEach @(
            @{ Name = 'InputObject'; Type = 'TenantBackup.Engine.BackupInfo[]' }
            @{ Name = 'Id'; Type = 'string[]' }
            @{ Name = 'Path'; Type = 'string[]' }
            @{ Name = 'Repository'; Type = 'string' }
            @{ Name = 'Quick'; Type = 'switch' }
            @{ Name = 'RestoreTest'; Type = 'switch' }
            @{ Name = 'ConnectionString'; Type = 'string' }
            @{ Name = 'Server'; Type = 'string' }
            @{ Name = 'Port'; Type = 'System.Nullable[int]' }
            @{ Name = 'Database'; Type = 'string' }
            @{ Name = 'Credential'; Type = 'pscredential' }
            @{ Name = 'LogPath'; Type = 'string' }
            @{ Name = 'EncryptionKeyFile'; Type = 'string' }
            @{ Name = 'Passphrase'; Type = 'securestring' }
        ) {
            $command | Should -HaveParameter $Name -Type $Type
        }

        It 'has no -WhatIf: it changes nothing but the index''s record of checks' {
            $command.Parameters.ContainsKey('WhatIf') | Should -BeFalse
        }

        It 'declares IntegrityResult as its output' {
            $command.OutputType.Type | Should -Contain ([TenantBackup.Engine.Integrity.IntegrityResult])
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

        It 'takes archive files from Get-ChildItem through FullName' {
            $file = New-Item -ItemType File -Path (Join-Path $TestDrive 'piped.tar.zst')
            $result = $file | Test-BackupIntegrity -Repository $TestDrive
            $result.Path | Should -Be $file.FullName
            $result.Status | Should -Be 'Corrupt'
        }
    }

    Context 'Error ids' {
        It 'stops with InvalidArgument for a connection without -RestoreTest' {
            { Test-BackupIntegrity -Path (Join-Path $TestDrive 'a.tar.zst') -ConnectionString 'Host=127.0.0.1;Port=1' } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.TestBackupIntegrityCommand'
        }

        It 'stops with InvalidArgument for -Quick with -RestoreTest' {
            { Test-BackupIntegrity -Path (Join-Path $TestDrive 'a.tar.zst') -Quick -RestoreTest -ConnectionString 'Host=127.0.0.1;Port=1' } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.TestBackupIntegrityCommand'
        }

        It 'reports a missing archive as a result with Status Missing, not an error' {
            $result = Test-BackupIntegrity -Path (Join-Path $TestDrive 'gone.tar.zst') -Repository $TestDrive -ErrorVariable errors
            $errors | Should -BeNullOrEmpty
            $result.Status | Should -Be 'Missing'
        }
    }

    Context 'Against a database' {
        BeforeAll {
            if (-not $NoDatabase) {
                $schema = New-TestSchema
                $repository = Join-Path $TestDrive 'db'
                $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
            }
        }

        AfterAll {
            if (-not $NoDatabase) {
                Remove-TestSchema $schema
            }
        }

        It 'checks what Get-TenantBackup pipes in and records it in the index' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }
            $result = Get-TenantBackup -Repository $repository | Test-BackupIntegrity
            $result.Status | Should -Be 'Valid'
            $result.Id | Should -Be $backup.Id
            (Get-TenantBackup -Repository $repository).LastVerifyResult | Should -Be 'Valid'
        }

        It 'finds a flipped byte, and says Corrupt without an error' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }
            $copy = Join-Path $TestDrive 'flipped.tar.zst'
            Copy-Item $backup.Path $copy
            Copy-Item "$($backup.Path).sha256" "$copy.sha256"
            (Get-Content "$copy.sha256" -Raw).Replace((Split-Path $backup.Path -Leaf), 'flipped.tar.zst') |
                Set-Content "$copy.sha256" -NoNewline
            $bytes = [System.IO.File]::ReadAllBytes($copy)
            $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 4
            [System.IO.File]::WriteAllBytes($copy, $bytes)

            $result = Get-Item $copy | Test-BackupIntegrity -Repository $TestDrive -ErrorVariable errors
            $errors | Should -BeNullOrEmpty
            $result.Status | Should -Be 'Corrupt'
            ($result.Checks | Where-Object Outcome -eq 'Failed').Name | Should -Contain 'sha256-file'
        }

        It 'runs a test restore that changes nothing' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }
            $before = Invoke-TestSql -Scalar "SELECT string_agg(name, ',' ORDER BY id) FROM $schema.customers"
            $result = Test-BackupIntegrity -Id $backup.Id -Repository $repository -RestoreTest -ConnectionString $DatabaseConnection
            ($result.Checks | Where-Object Name -eq 'restore-test').Outcome | Should -Be 'Passed'
            $result.Passed | Should -BeTrue
            Invoke-TestSql -Scalar "SELECT string_agg(name, ',' ORDER BY id) FROM $schema.customers" | Should -Be $before
        }
    }
}
