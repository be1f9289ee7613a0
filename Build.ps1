#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the TenantBackup module.

.DESCRIPTION
    Tasks run in the order Clean, Build, Test, Package, whatever order they are given in.

    Clean    Removes out/ and the bin/ and obj/ folders under src/, tests/ and bench/.
    Build    Runs the Module target of build/Module.targets: dotnet publish of src/TenantBackup.PowerShell, then exactly
             the files listed in module/files.txt copied into out/TenantBackup/<version>/ (failing on a missing one;
             publish/ entries keep their folder, so the help lands in en-US/ and the engine with its dependencies in
             dependencies/), with the version (VersionPrefix in Directory.Build.props) stamped into the copied
             TenantBackup.psd1. Then Test-ModuleManifest.
    Test     dotnet test TenantBackup.sln, then the Pester 5 suite in tests/Pester (in a child pwsh, against the built
             module) when Pester 5 is installed. Builds first when out/ has no module of this version.
    Package  Runs the Package target: the module folder as above, packed as PSResourceGet packs a module into
             out/packages/TenantBackup.<version>.nupkg (module files at the package root; id, version, authors,
             description, project URL, release notes and tags from the manifest). With -Repository, publishes it there
             with Publish-PSResource.

.EXAMPLE
    ./Build.ps1

    Builds the module into out/TenantBackup/<version>/.

.EXAMPLE
    ./Build.ps1 -Task Clean, Build, Test -Configuration Debug

.EXAMPLE
    ./Build.ps1 -Task Package

    Makes out/packages/TenantBackup.<version>.nupkg. Install it from there with
    Register-PSResourceRepository -Name TenantBackupLocal -Uri ./out/packages -Trusted; Install-PSResource TenantBackup -Repository TenantBackupLocal

.EXAMPLE
    ./Build.ps1 -Task Package -Repository MyFeed
#>
[CmdletBinding()]
param(
    [ValidateSet('Clean', 'Build', 'Test', 'Package')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [string] $Repository
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$RepoRoot = $PSScriptRoot
$OutRoot = Join-Path $RepoRoot 'out'

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

function Invoke-ModuleTarget {
    param([Parameter(Mandatory)] [ValidateSet('Module', 'Package')] [string] $Target)

    # build/Module.targets does the work, so a machine without pwsh (CI) builds the very same layout.
    Invoke-Native dotnet @(
        'build', (Join-Path $RepoRoot 'src/TenantBackup.PowerShell/TenantBackup.PowerShell.csproj'),
        '--configuration', $Configuration,
        "-t:$Target",
        "-p:ModuleOutRoot=$OutRoot",
        '--nologo')
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
    Invoke-ModuleTarget Module

    $manifest = Join-Path (Get-ModuleDirectory) 'TenantBackup.psd1'
    $null = Test-ModuleManifest -Path $manifest
    Write-Host "Built module $(Get-ModuleVersion) in $(Get-ModuleDirectory)"
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
    # The Package target builds the module folder first, so the package always holds what Build lays out.
    Invoke-ModuleTarget Package
    $package = Join-Path $OutRoot (Join-Path 'packages' "TenantBackup.$(Get-ModuleVersion).nupkg")
    Write-Host "Packed $package"

    if (-not $Repository) {
        return
    }

    if ($null -eq (Get-Command -Name Publish-PSResource -ErrorAction Ignore)) {
        throw 'Publishing needs Microsoft.PowerShell.PSResourceGet (part of PowerShell 7.4 and later; else Install-Module Microsoft.PowerShell.PSResourceGet).'
    }
    if ($null -eq (Get-PSResourceRepository -Name $Repository -ErrorAction Ignore)) {
        throw "The PSResourceGet repository '$Repository' is not registered; register it with Register-PSResourceRepository."
    }

    if ((Get-Command -Name Publish-PSResource).Parameters.ContainsKey('NupkgPath')) {
        Publish-PSResource -NupkgPath $package -Repository $Repository
    }
    else {
        # PSResourceGet 1.0 (PowerShell 7.4) cannot publish a ready package: it packs the same module folder itself.
        Publish-PSResource -Path (Get-ModuleDirectory) -Repository $Repository
    }
    Write-Host "Published TenantBackup $(Get-ModuleVersion) to '$Repository'"
}

foreach ($step in 'Clean', 'Build', 'Test', 'Package') {
    if ($Task -contains $step) {
        Write-Host "== $step"
        & "Invoke-$step"
    }
}
