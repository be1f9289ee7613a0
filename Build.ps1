#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the TenantBackup module.

.DESCRIPTION
    Tasks run in the order Clean, Build, Test, Package, whatever order they are given in.

    Clean    Removes out/ and the bin/ and obj/ folders under src/, tests/ and bench/.
    Build    dotnet publish src/TenantBackup.PowerShell into a temporary folder, then copies exactly the files listed in
             module/files.txt into out/TenantBackup/<version>/ (failing on a missing one; publish/ entries keep their
             folder, so the help lands in en-US/ and the engine with its dependencies in dependencies/) and stamps the
             version (VersionPrefix in Directory.Build.props) into the copied TenantBackup.psd1.
    Test     dotnet test TenantBackup.sln, then the Pester 5 suite in tests/Pester (in a child pwsh, against the built
             module) when Pester 5 is installed. Builds first when out/ has no module of this version.
    Package  Publish-PSResource of the built module to the PSResourceGet repository -Repository. The default,
             'TenantBackupLocal', is a local folder repository at out/repository that is registered on first use.

.EXAMPLE
    ./Build.ps1

    Builds the module into out/TenantBackup/<version>/.

.EXAMPLE
    ./Build.ps1 -Task Clean, Build, Test -Configuration Debug

.EXAMPLE
    ./Build.ps1 -Task Package -Repository MyFeed
#>
[CmdletBinding()]
param(
    [ValidateSet('Clean', 'Build', 'Test', 'Package')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [ValidateNotNullOrEmpty()]
    [string] $Repository = 'TenantBackupLocal'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$RepoRoot = $PSScriptRoot
$OutRoot = Join-Path $RepoRoot 'out'
$LocalRepositoryName = 'TenantBackupLocal'

function Invoke-Native {
    param(
        [Parameter(Mandatory)] [string] $Command,
        [Parameter(Mandatory)] [string[]] $Arguments
    )

    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw -LiteralPath (Join-Path $RepoRoot 'Directory.Build.props'))
    $node = $props.SelectSingleNode('/Project/PropertyGroup/VersionPrefix')
    if ($null -eq $node -or [string]::IsNullOrWhiteSpace($node.InnerText)) {
        throw 'Directory.Build.props has no VersionPrefix.'
    }

    $node.InnerText.Trim()
}

function Get-ModuleDirectory {
    Join-Path $OutRoot (Join-Path 'TenantBackup' (Get-ModuleVersion))
}

function Get-ModuleFileList {
    $list = Join-Path $RepoRoot 'module/files.txt'
    @(Get-Content -LiteralPath $list |
        ForEach-Object { $_.Trim() } |
        Where-Object { $_ -and -not $_.StartsWith('#') })
}

function Invoke-Clean {
    if (Test-Path -LiteralPath $OutRoot) {
        Remove-Item -LiteralPath $OutRoot -Recurse -Force
    }

    $roots = @('src', 'tests', 'bench') |
        ForEach-Object { Join-Path $RepoRoot $_ } |
        Where-Object { Test-Path -LiteralPath $_ }
    foreach ($folder in @(Get-ChildItem -LiteralPath $roots -Directory -Recurse -Include 'bin', 'obj')) {
        # A bin/ inside an obj/ (or the other way round) may already be gone with its parent.
        if (Test-Path -LiteralPath $folder.FullName) {
            Remove-Item -LiteralPath $folder.FullName -Recurse -Force
        }
    }
}

function Invoke-Build {
    $version = Get-ModuleVersion
    $moduleDir = Get-ModuleDirectory
    $publishDir = Join-Path ([System.IO.Path]::GetTempPath()) ("TenantBackup-publish-" + [guid]::NewGuid().ToString('N'))

    try {
        Invoke-Native dotnet @(
            'publish', (Join-Path $RepoRoot 'src/TenantBackup.PowerShell'),
            '--configuration', $Configuration,
            '--output', $publishDir,
            '--nologo')

        if (Test-Path -LiteralPath $moduleDir) {
            Remove-Item -LiteralPath $moduleDir -Recurse -Force
        }
        $null = New-Item -ItemType Directory -Path $moduleDir -Force

        foreach ($entry in Get-ModuleFileList) {
            # publish/ entries keep their folder below the publish output (en-US/ help); the others go flat.
            if ($entry.StartsWith('publish/', [System.StringComparison]::Ordinal)) {
                $relative = $entry.Substring('publish/'.Length)
                $source = Join-Path $publishDir $relative
                $folder = Split-Path -Parent $relative
                $destination = if ($folder) { Join-Path $moduleDir $folder } else { $moduleDir }
            }
            else {
                $source = Join-Path $RepoRoot $entry
                $destination = $moduleDir
            }

            if (-not (Test-Path -LiteralPath $source -PathType Leaf)) {
                throw "Module file '$entry' is missing (looked for '$source'). Fix module/files.txt or the build."
            }
            $null = New-Item -ItemType Directory -Path $destination -Force
            Copy-Item -LiteralPath $source -Destination $destination
        }

        $manifest = Join-Path $moduleDir 'TenantBackup.psd1'
        $text = Get-Content -Raw -LiteralPath $manifest
        $pattern = "(?m)^(\s*ModuleVersion\s*=\s*)'[^']*'"
        if ([regex]::Matches($text, $pattern).Count -ne 1) {
            throw "TenantBackup.psd1 must have exactly one line ModuleVersion = '...'."
        }
        $text = [regex]::Replace($text, $pattern, "`${1}'$version'")
        Set-Content -LiteralPath $manifest -Value $text -NoNewline -Encoding utf8NoBOM

        $null = Test-ModuleManifest -Path $manifest
        Write-Host "Built module $version in $moduleDir"
    }
    finally {
        if (Test-Path -LiteralPath $publishDir) {
            Remove-Item -LiteralPath $publishDir -Recurse -Force
        }
    }
}

function Invoke-Test {
    Invoke-Native dotnet @('test', (Join-Path $RepoRoot 'TenantBackup.sln'), '--configuration', $Configuration, '--nologo')

    $pester = Get-Module -ListAvailable -Name Pester |
        Where-Object { $_.Version.Major -ge 5 } |
        Sort-Object -Property Version -Descending |
        Select-Object -First 1
    if ($null -eq $pester) {
        Write-Warning 'Pester 5 is not installed, so tests/Pester did not run. Install it with: Install-PSResource Pester'
        return
    }

    if (-not (Test-Path -LiteralPath (Join-Path (Get-ModuleDirectory) 'TenantBackup.psd1'))) {
        Invoke-Build
    }

    # A child process: importing the module here would lock its DLLs against the next build.
    $pwsh = (Get-Process -Id $PID).Path
    & $pwsh -NoProfile -NonInteractive -Command {
        param($PesterPath, $TestPath)
        Import-Module -Name $PesterPath
        $configuration = New-PesterConfiguration
        $configuration.Run.Path = $TestPath
        $configuration.Run.Exit = $true
        $configuration.Output.Verbosity = 'Detailed'
        Invoke-Pester -Configuration $configuration
    } -args $pester.Path, (Join-Path $RepoRoot 'tests/Pester')
    if ($LASTEXITCODE -ne 0) {
        throw "The Pester suite failed ($LASTEXITCODE failed test(s) or a run error)."
    }
}

function Invoke-Package {
    if ($null -eq (Get-Command -Name Publish-PSResource -ErrorAction Ignore)) {
        throw 'Package needs Microsoft.PowerShell.PSResourceGet (part of PowerShell 7.4 and later; else Install-Module Microsoft.PowerShell.PSResourceGet).'
    }

    $moduleDir = Get-ModuleDirectory
    if (-not (Test-Path -LiteralPath (Join-Path $moduleDir 'TenantBackup.psd1'))) {
        Invoke-Build
    }

    if ($null -eq (Get-PSResourceRepository -Name $Repository -ErrorAction Ignore)) {
        if ($Repository -ne $LocalRepositoryName) {
            throw "The PSResourceGet repository '$Repository' is not registered; register it with Register-PSResourceRepository."
        }

        $feed = Join-Path $OutRoot 'repository'
        $null = New-Item -ItemType Directory -Path $feed -Force
        Register-PSResourceRepository -Name $LocalRepositoryName -Uri $feed -Trusted
        Write-Host "Registered the local PSResourceGet repository '$LocalRepositoryName' at $feed"
    }

    Publish-PSResource -Path $moduleDir -Repository $Repository
    Write-Host "Published TenantBackup $(Get-ModuleVersion) to '$Repository'"
}

foreach ($step in 'Clean', 'Build', 'Test', 'Package') {
    if ($Task -contains $step) {
        Write-Host "== $step"
        & "Invoke-$step"
    }
}
