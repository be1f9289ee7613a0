# Shared by the *.Tests.ps1 files of this folder (dot-source it in BeforeAll).

# The database tests need $env:TENANTBACKUP_TEST_CONNECTION (an Npgsql connection string to a database where the test
# may create and drop a schema of its own); without it only those tests are skipped, with this reason.
$DatabaseConnection = $env:TENANTBACKUP_TEST_CONNECTION
$NoDatabase = [string]::IsNullOrWhiteSpace($DatabaseConnection)
$NoDatabaseReason = 'TENANTBACKUP_TEST_CONNECTION is not set: no PostgreSQL to back up from.'

function Import-BuiltModule {
    # The module as Build.ps1 lays it out, newest version first.
    $out = Join-Path $PSScriptRoot '../../out/TenantBackup'
    $manifest = Get-ChildItem -Path (Join-Path $out '*/TenantBackup.psd1') -ErrorAction Ignore |
        Sort-Object -Property { [version]$_.Directory.Name } -Descending |
        Select-Object -First 1
    if ($null -eq $manifest) {
        throw "No built module under $out. Run ./Build.ps1 -Task Build first."
    }

    Import-Module -Name $manifest.FullName -Force -PassThru
}

function Get-ModuleDependency {
    # The engine and Npgsql live in the module's private load context, not in the session: use those very copies (through
    # reflection) rather than load second ones next to them.
    param([Parameter(Mandatory)] [string] $Name)

    $contextType = [TenantBackup.PowerShell.ModuleInitializer].Assembly.GetType('TenantBackup.PowerShell.Internal.EngineLoadContext', $true)
    $context = $contextType.GetProperty('Instance').GetValue($null)
    $context.LoadFromAssemblyName([System.Reflection.AssemblyName]::new($Name))
}

function Invoke-TestSql {
    # With -Scalar, returns the first column of the first row (e.g. a count or a string_agg to compare).
    param([Parameter(Mandatory)] [string] $Sql, [switch] $Scalar)

    # The module's own Npgsql, and the engine's connection-string rules (PG* variables) as in the cmdlets.
    $engine = Get-ModuleDependency -Name TenantBackup.Engine
    $npgsql = Get-ModuleDependency -Name Npgsql
    $connectionString = $engine.GetType('TenantBackup.Engine.ConnectionStrings', $true)::Build($DatabaseConnection, $null, $null, $null, $null, $null)
    $connection = $npgsql.GetType('Npgsql.NpgsqlConnection', $true)::new($connectionString)
    try {
        $connection.Open()
        $command = $connection.CreateCommand()
        $command.CommandText = $Sql
        if ($Scalar) {
            $command.ExecuteScalar()
        }
        else {
            $null = $command.ExecuteNonQuery()
        }
    }
    finally {
        $connection.Dispose()
    }
}

function New-TestSchema {
    # A schema of its own per test file: two tenants, a root table and a child table with an identity key.
    $schema = 'tbpester_' + [guid]::NewGuid().ToString('N').Substring(0, 12)
    Invoke-TestSql @"
CREATE SCHEMA $schema;
CREATE TABLE $schema.tenants (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE $schema.customers (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES $schema.tenants (id),
    name text NOT NULL);
INSERT INTO $schema.tenants VALUES (1, 'one'), (2, 'two');
INSERT INTO $schema.customers (tenant_id, name) SELECT 1 + g % 2, 'customer ' || g FROM generate_series(1, 100) AS g;
"@
    $schema
}

function Remove-TestSchema {
    param([string] $Schema)

    if ($Schema) {
        Invoke-TestSql "DROP SCHEMA IF EXISTS $Schema CASCADE;"
    }
}
