using System.Management.Automation;
using TenantBackup.Engine;

namespace TenantBackup.PowerShell;

/// <summary>
/// The error ids the cmdlets write and the <see cref="ErrorCategory"/> of each. An engine error's id is its
/// <see cref="ErrorCode"/> name, so scripts can test <c>$_.FullyQualifiedErrorId -like 'TenantLocked,*'</c>.
/// </summary>
internal static class ErrorIds
{
    /// <summary>An exception the engine did not explain (a bug): the record keeps the exception for the stack trace.</summary>
    public const string UnexpectedError = "UnexpectedError";

    /// <summary>The <c>-LogPath</c> file cannot be opened for appending.</summary>
    public const string LogPathUnavailable = "LogPathUnavailable";

    private static readonly Dictionary<ErrorCode, ErrorCategory> _categories = new()
    {
        [ErrorCode.InvalidArgument] = ErrorCategory.InvalidArgument,
        [ErrorCode.TenantNotFound] = ErrorCategory.ObjectNotFound,
        [ErrorCode.InvalidTenantValue] = ErrorCategory.InvalidArgument,
        [ErrorCode.ScopeError] = ErrorCategory.InvalidOperation,
        [ErrorCode.RowLevelSecurity] = ErrorCategory.PermissionDenied,
        [ErrorCode.TenantLocked] = ErrorCategory.ResourceBusy,
        [ErrorCode.ConnectionFailed] = ErrorCategory.ConnectionError,
        [ErrorCode.AuthenticationFailed] = ErrorCategory.AuthenticationError,
        [ErrorCode.PermissionDenied] = ErrorCategory.PermissionDenied,
        [ErrorCode.DatabaseNotFound] = ErrorCategory.ObjectNotFound,
        [ErrorCode.DatabaseError] = ErrorCategory.InvalidOperation,
        [ErrorCode.ArchiveCorrupt] = ErrorCategory.InvalidData,
        [ErrorCode.ChecksumMismatch] = ErrorCategory.InvalidData,
        [ErrorCode.ArchiveNotFound] = ErrorCategory.ObjectNotFound,
        [ErrorCode.CompressionUnavailable] = ErrorCategory.NotInstalled,
        [ErrorCode.RepositoryError] = ErrorCategory.ResourceUnavailable,
        [ErrorCode.IndexCorrupt] = ErrorCategory.InvalidData,
        [ErrorCode.IndexLocked] = ErrorCategory.ResourceBusy,
        [ErrorCode.IOError] = ErrorCategory.WriteError,
        [ErrorCode.SchemaMismatch] = ErrorCategory.InvalidData,
        [ErrorCode.KeyCollision] = ErrorCategory.ResourceExists,
        [ErrorCode.Cancelled] = ErrorCategory.OperationStopped,
        [ErrorCode.DecryptionFailed] = ErrorCategory.SecurityError,
    };

    /// <summary>Every engine code with its category (a test checks that no code is left out).</summary>
    public static IReadOnlyDictionary<ErrorCode, ErrorCategory> Categories => _categories;

    /// <summary>The <c>ErrorRecord.ErrorId</c> of an engine error.</summary>
    public static string IdOf(ErrorCode code) => code.ToString();

    /// <summary>The category of an engine error; <see cref="ErrorCategory.NotSpecified"/> for a code added without a mapping.</summary>
    public static ErrorCategory CategoryOf(ErrorCode code) =>
        _categories.TryGetValue(code, out var category) ? category : ErrorCategory.NotSpecified;

    /// <summary>
    /// True when the error concerns one pipeline item only (this tenant, this archive), so a cmdlet writes it and goes
    /// on with the next item; every other error (connection, repository, bad arguments) would fail the next item too
    /// and stops the command. A refused restore (schema mismatch, key collision) is about the one backup and its target
    /// tenant: the next backup may restore fine. So is a key that does not fit one archive: the next may be another key's.
    /// </summary>
    public static bool IsItemError(ErrorCode code) => code is ErrorCode.TenantNotFound
        or ErrorCode.InvalidTenantValue
        or ErrorCode.TenantLocked
        or ErrorCode.ArchiveNotFound
        or ErrorCode.ArchiveCorrupt
        or ErrorCode.ChecksumMismatch
        or ErrorCode.SchemaMismatch
        or ErrorCode.KeyCollision
        or ErrorCode.DecryptionFailed;

    /// <summary>The record for an engine error; its target is the error's own target, else <paramref name="fallbackTarget"/>.</summary>
    public static ErrorRecord ToErrorRecord(TenantBackupException exception, object? fallbackTarget)
        => new(exception, IdOf(exception.Code), CategoryOf(exception.Code), exception.Target ?? fallbackTarget);

    /// <summary>The record for an exception the engine did not explain.</summary>
    public static ErrorRecord ToErrorRecord(Exception exception, object? target)
        => exception is TenantBackupException known
            ? ToErrorRecord(known, target)
            : new ErrorRecord(exception, UnexpectedError, ErrorCategory.NotSpecified, target);
}
