namespace TenantBackup.Engine;

/// <summary>An error the engine explains: a stable <see cref="Code"/>, a message that says what to do, and the object concerned.</summary>
public sealed class TenantBackupException : Exception
{
    /// <summary>Creates an engine error.</summary>
    public TenantBackupException(ErrorCode code, string message, object? target = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Target = target;
    }

    /// <summary>The condition, stable across versions.</summary>
    public ErrorCode Code { get; }

    /// <summary>What the error is about: a tenant, a table, an archive path... Never a connection string.</summary>
    public object? Target { get; }
}
