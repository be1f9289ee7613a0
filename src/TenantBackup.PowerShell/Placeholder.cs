namespace TenantBackup.PowerShell; internal static class Placeholder { }
