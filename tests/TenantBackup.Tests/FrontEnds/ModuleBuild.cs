using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The module folder and package as build/Module.targets makes them: the Package target (which runs Module first) of the
/// cmdlet project, run once per test run with <c>dotnet msbuild</c> into a temporary out/ folder. NoBuild: the test
/// project's build has already built the cmdlet project in this configuration.
/// </summary>
public sealed class ModuleBuild : IAsyncLifetime
{
    private readonly TempFolder _outRoot = new();

    /// <summary>The out/ folder the targets wrote to.</summary>
    public string OutRoot => _outRoot.Path;

    /// <summary>out/TenantBackup/&lt;version&gt;/.</summary>
    public string ModuleDirectory => Path.Combine(OutRoot, "TenantBackup", ModuleLayoutTests.VersionPrefix());

    /// <summary>out/packages/TenantBackup.&lt;version&gt;.nupkg.</summary>
    public string Package => Path.Combine(OutRoot, "packages", $"TenantBackup.{ModuleLayoutTests.VersionPrefix()}.nupkg");

    public async Task InitializeAsync()
    {
        var result = await RunTargetAsync("Package", OutRoot);
        Assert.True(result.Succeeded, result.Describe());
    }

    public Task DisposeAsync()
    {
        _outRoot.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Runs a target of build/Module.targets with extra <c>-p:</c> properties.</summary>
    public static Task<ProcessResult> RunTargetAsync(string target, string outRoot, params string[] properties) =>
        ProcessRunner.RunAsync(
            DotnetHost(),
            [
                "msbuild",
                Path.Combine(TestPaths.RepoRoot, "src", "TenantBackup.PowerShell", "TenantBackup.PowerShell.csproj"),
                $"-t:{target}",
                $"-p:Configuration={TestPaths.Configuration}",
                "-p:NoBuild=true",
                $"-p:ModuleOutRoot={outRoot}",
                .. properties.Select(p => "-p:" + p),
                "-nologo",
                "-nodeReuse:false",
                "-verbosity:minimal",
            ],
            TimeSpan.FromMinutes(3),
            workingDirectory: TestPaths.RepoRoot,
            // The test host's MSBuild variables belong to the build that started it, not to this one.
            environment: new Dictionary<string, string?>
            {
                ["MSBuildExtensionsPath"] = null,
                ["MSBuildSDKsPath"] = null,
                ["MSBUILD_EXE_PATH"] = null,
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            });

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath) ? hostPath : "dotnet";
}

/// <summary>The test classes that read the built module.</summary>
[CollectionDefinition(Name)]
public sealed class ModuleBuildCollection : ICollectionFixture<ModuleBuild>
{
    public const string Name = "Module build";
}
