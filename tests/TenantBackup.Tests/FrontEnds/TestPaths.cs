namespace TenantBackup.Tests.FrontEnds;

/// <summary>Where the repository and the build outputs are, seen from the test assembly.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder with TenantBackup.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The configuration this test assembly was built with (Debug or Release), read off its output path.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The build output of the cmdlet project, which holds every runtime file of the module.</summary>
    public static string PowerShellBin => Path.Combine(RepoRoot, "src", "TenantBackup.PowerShell", "bin", Configuration, "net8.0");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TenantBackup.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No TenantBackup.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A temporary folder, deleted with its contents on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tenantbackup-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
