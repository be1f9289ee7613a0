using TenantBackup.Engine;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>What both front ends must leave to the engine when an option or parameter is not given.</summary>
internal static class RequestAssert
{
    private static readonly BackupRequest Defaults = new() { ConnectionString = "x", Tenant = "x" };

    public static void HasEngineDefaults(BackupRequest request)
    {
        Assert.Equal(BackupRequest.DefaultTenantColumn, request.TenantColumn);
        Assert.Null(request.Repository);
        Assert.Equal(Defaults.Compression, request.Compression);
        Assert.False(request.CompressionExplicit);
        Assert.Null(request.CompressionLevel);
        Assert.Empty(request.Schemas);
        Assert.Empty(request.IncludeTables);
        Assert.Empty(request.ExcludeTables);
        Assert.Empty(request.IncludePaths);
        Assert.Null(request.Message);
        Assert.Equal(Defaults.LockTimeout, request.LockTimeout);
        Assert.Equal(Defaults.Kind, request.Kind);
        Assert.Null(request.ParentId);
    }

    private static readonly RestoreRequest RestoreDefaults = new() { ConnectionString = "x" };

    public static void HasEngineDefaults(RestoreRequest request)
    {
        Assert.Null(request.Repository);
        Assert.Null(request.TargetTenant);
        Assert.Empty(request.RootValues);
        Assert.Equal(RestoreDefaults.Mode, request.Mode);
        Assert.Equal(RestoreDefaults.KeyCollision, request.KeyCollision);
        Assert.False(request.NoPreBackup);
        Assert.False(request.DisableTriggers);
        Assert.Empty(request.IncludeTables);
        Assert.Empty(request.ExcludeTables);
        Assert.Null(request.FilesPath);
        Assert.False(request.SkipFiles);
        Assert.Equal(RestoreDefaults.LockTimeout, request.LockTimeout);
    }
}
