using System.CommandLine;
using TenantBackup.Engine;

namespace TenantBackup.Cli.Commands;

/// <summary>Runs a command's body and turns its failures into the documented message on stderr and exit code.</summary>
internal static class CommandRunner
{
    /// <summary>
    /// Runs <paramref name="body"/>; an engine error prints <c>tenantbackup: error Code: message</c> on stderr and returns
    /// <see cref="ExitCodes.For"/> of its code.
    /// </summary>
    public static async Task<int> RunAsync(
        ParseResult parseResult,
        CancellationToken cancellationToken,
        Func<TextWriter, TextWriter, Task<int>> body)
    {
        var stdout = parseResult.InvocationConfiguration.Output;
        var stderr = parseResult.InvocationConfiguration.Error;
        try
        {
            return await body(stdout, stderr).ConfigureAwait(false);
        }
        catch (TenantBackupException ex)
        {
            await WriteErrorAsync(stderr, ex.Code.ToString(), ex.Message).ConfigureAwait(false);
            return ExitCodes.For(ex.Code);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await WriteErrorAsync(stderr, nameof(ErrorCode.Cancelled), "The operation was cancelled; nothing was kept.")
                .ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            // Not an error the engine explains: a bug. Say what it was; the type helps the report.
            await WriteErrorAsync(stderr, "UnexpectedError", $"{ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    private static Task WriteErrorAsync(TextWriter stderr, string code, string message)
        => stderr.WriteLineAsync($"tenantbackup: error {code}: {message}");
}
