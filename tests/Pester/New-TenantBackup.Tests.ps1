#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $null = Import-BuiltModule
    $command = Get-Command -Name New-TenantBackup -Module TenantBackup
}

AfterAll {
    Remove-Module -Name TenantBackup -ErrorAction Ignore
}

Describe 'New-TenantBackup' {
    Context 'Validate parameters' {
        It 'has -<Name> of type <Type>' -ForEach @(
            @{ Name = 'ConnectionString'; Type = 'string' }
            @{ Name = 'Server'; Type = 'string' }
            @{ Name = 'Port'; Type = 'System.Nullable[int]' }
            @{ Name = 'Database'; Type = 'string' }
            @{ Name = 'Credential'; Type = 'pscredential' }
            @{ Name = 'Tenant'; Type = 'string' }
            @{ Name = 'TenantColumn'; Type = 'string' }
            @{ Name = 'Repository'; Type = 'string' }
            @{ Name = 'Compression'; Type = 'TenantBackup.Engine.Compression' }
            @{ Name = 'CompressionLevel'; Type = 'System.Nullable[int]' }
            @{ Name = 'Schema'; Type = 'string[]' }
            @{ Name = 'IncludeTable'; Type = 'string[]' }
            @{ Name = 'ExcludeTable'; Type = 'string[]' }
            @{ Name = 'IncludePath'; Type = 'string[]' }
            @{ Name = 'Message'; Type = 'string' }
            @{ Name = 'LockTimeout'; Type = 'timespan' }
            @{ Name = 'LogPath'; Type = 'string' }
            @{ Name = 'EncryptionKeyFile'; Type = 'string' }
            @{ Name = 'Passphrase'; Type = 'securestring' }
        ) {
            $command | Should -HaveParameter $Name -Type $Type
        }

        It 'requires -Tenant, at position 0, from the pipeline and by property name' {
            $command | Should -HaveParameter Tenant -Mandatory
            $parameter = $command.Parameters['Tenant'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $parameter.Position | Should -Be 0
            $parameter.ValueFromPipeline | Should -BeTrue
            $parameter.ValueFromPipelineByPropertyName | Should -BeTrue
        }

        It 'has the ConnectionString set (default) and the Server set, where -Server is mandatory' {
            $command.ParameterSets.Name | Sort-Object | Should -Be @('ConnectionString', 'Server')
            $command.DefaultParameterSet | Should -Be 'ConnectionString'
            $server = $command.ParameterSets | Where-Object Name -EQ 'Server'
            ($server.Parameters | Where-Object Name -EQ 'Server').IsMandatory | Should -BeTrue
            $server.Parameters.Name | Should -Not -Contain 'ConnectionString'
        }

        It 'supports -WhatIf and -Confirm' {
            $command | Should -HaveParameter WhatIf
            $command | Should -HaveParameter Confirm
        }

        It 'declares BackupInfo as its output' {
            $command.OutputType.Type | Should -Be ([TenantBackup.Engine.BackupInfo])
        }
    }

    Context 'Error ids' {
        It 'stops with InvalidArgument when both -EncryptionKeyFile and -Passphrase are given' {
            $key = Join-Path $TestDrive 'tenant.key'
            [System.IO.File]::WriteAllBytes($key, [byte[]]::new(32))
            $passphrase = ConvertTo-SecureString 'not both' -AsPlainText -Force
            { New-TenantBackup -ConnectionString 'Host=db1' -Tenant 42 -Repository $TestDrive -EncryptionKeyFile $key -Passphrase $passphrase } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.NewTenantBackupCommand'
        }

        It 'stops with InvalidArgument on a connection string it cannot parse' {
            { New-TenantBackup -ConnectionString 'Host=db1;Password=S3cr3t;Port=abc' -Tenant 42 -Repository $TestDrive } |
                Should -Throw -ErrorId 'InvalidArgument,TenantBackup.PowerShell.Commands.NewTenantBackupCommand'
        }

        It 'does not show the password in the error' {
            $record = $null
            try {
                New-TenantBackup -ConnectionString 'Host=db1;Password=S3cr3t;Port=abc' -Tenant 42 -Repository $TestDrive
            }
            catch {
                $record = $_
            }

            $record | Should -Not -BeNullOrEmpty
            $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
            ($record | Out-String) + $record.Exception.Message | Should -Not -Match 'S3cr3t'
        }

        It 'refuses -ConnectionString together with -Server' {
            { New-TenantBackup -ConnectionString 'Host=a' -Server b -Tenant 42 } |
                Should -Throw -ErrorId 'AmbiguousParameterSet,TenantBackup.PowerShell.Commands.NewTenantBackupCommand'
        }

        It 'refuses a negative -LockTimeout' {
            { New-TenantBackup -ConnectionString 'Host=a' -Tenant 42 -LockTimeout -5 -WhatIf } |
                Should -Throw -ErrorId 'ParameterArgumentTransformationError,TenantBackup.PowerShell.Commands.NewTenantBackupCommand'
        }

        It 'writes a non-terminating TenantNotFound (or InvalidTenantValue) for an unknown tenant and goes on' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $schema = New-TestSchema
            try {
                $backups = '999999', '1' | New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Repository $TestDrive `
                    -ErrorVariable failures -ErrorAction SilentlyContinue
                @($backups).Count | Should -Be 1
                $backups.Tenant | Should -Be '1'
                $failures.Count | Should -Be 1
                $failures[0].FullyQualifiedErrorId | Should -Match '^(TenantNotFound|InvalidTenantValue),'
                $failures[0].TargetObject | Should -Not -BeNullOrEmpty
            }
            finally {
                Remove-TestSchema $schema
            }
        }
    }

    Context '-WhatIf' {
        It 'writes nothing and creates nothing' {
            $result = New-TenantBackup -ConnectionString 'Host=db1.invalid' -Tenant 42 -Repository $TestDrive -WhatIf
            $result | Should -BeNullOrEmpty
            Get-ChildItem -LiteralPath $TestDrive -Force | Should -BeNullOrEmpty
        }

        It 'does not even connect (an unreachable server is fine)' {
            { New-TenantBackup -Server 'db1.invalid' -Port 1 -Database app -Tenant 42 -Repository $TestDrive -WhatIf -ErrorAction Stop } |
                Should -Not -Throw
        }

        It 'leaves a real database and repository untouched' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $schema = New-TestSchema
            try {
                $repository = Join-Path $TestDrive 'whatif'
                $null = New-Item -ItemType Directory -Path $repository
                New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository -WhatIf |
                    Should -BeNullOrEmpty
                Get-ChildItem -LiteralPath $repository -Force | Should -BeNullOrEmpty
            }
            finally {
                Remove-TestSchema $schema
            }
        }
    }

    Context 'Pipeline binding' {
        It 'takes tenant values from the pipeline' {
            { 1, '2', 3 | New-TenantBackup -ConnectionString 'Host=db1.invalid' -Repository $TestDrive -WhatIf -ErrorAction Stop } |
                Should -Not -Throw
        }

        It 'binds -Tenant and -Repository by property name' {
            { [pscustomobject]@{ Tenant = '42'; Repository = "$TestDrive" } |
                New-TenantBackup -ConnectionString 'Host=db1.invalid' -WhatIf -ErrorAction Stop } |
                Should -Not -Throw
        }
    }

    Context 'Against a database' {
        BeforeAll {
            if (-not $NoDatabase) {
                $schema = New-TestSchema
            }
        }

        AfterAll {
            if (-not $NoDatabase) {
                Remove-TestSchema $schema
            }
        }

        It 'backs up a tenant into an archive in the repository' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $repository = Join-Path $TestDrive 'repo'
            $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository -Message 'pester'

            $backup | Should -BeOfType ([TenantBackup.Engine.BackupInfo])
            $backup.Tenant | Should -Be '1'
            $backup.Kind | Should -Be 'full'
            $backup.Message | Should -Be 'pester'
            $backup.RowCount | Should -BeGreaterThan 50
            $backup.Status | Should -Be 'available'
            $backup.Path | Should -Exist
            "$($backup.Path).sha256" | Should -Exist
            (Get-FileHash -LiteralPath $backup.Path -Algorithm SHA256).Hash | Should -Be $backup.Sha256
        }

        It 'pipes into Get-TenantBackup, which finds the same backup' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $repository = Join-Path $TestDrive 'piped'
            $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 2 -Repository $repository -Compression Gzip
            $found = $backup | Get-TenantBackup

            $found.Id | Should -Be $backup.Id
            $found.Compression | Should -Be 'gzip'
        }

        It 'never puts the password into the result' {
            if ($NoDatabase) { Set-ItResult -Skipped -Because $NoDatabaseReason }

            $repository = Join-Path $TestDrive 'secret'
            $backup = New-TenantBackup -ConnectionString $DatabaseConnection -Schema $schema -Tenant 1 -Repository $repository
            $password = ([System.Data.Common.DbConnectionStringBuilder]@{ ConnectionString = $DatabaseConnection })['Password']
            if ($password) {
                $backup | ConvertTo-Json | Should -Not -Match ([regex]::Escape($password))
                Get-Content -Raw -LiteralPath (Join-Path $repository 'backups.json') | Should -Not -Match ([regex]::Escape($password))
            }
        }
    }
}
