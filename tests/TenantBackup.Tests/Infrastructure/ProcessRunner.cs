using System.Diagnostics;
using System.Text;

namespace TenantBackup.Tests.Infrastructure;

/// <summary>The outcome of one external command: what ran, how it ended, and everything it printed.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string Output, bool TimedOut)
{
    /// <summary>True when the command exited with code 0 within its time limit.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>A report fit for an exception message: the command, how it ended and its output.</summary>
    public string Describe() =>
        $"command: {CommandLine}{Environment.NewLine}" +
        (TimedOut ? "result: timed out and was killed" : $"exit code: {ExitCode}") + Environment.NewLine +
        $"output:{Environment.NewLine}{(Output.Length == 0 ? "(none)" : Output.TrimEnd())}";
}

/// <summary>Runs external commands (initdb, pg_ctl, psql, chown) and captures their output for error reports.</summary>
public static class ProcessRunner
{
    /// <summary>Runs a command to completion, killing it (and its children) after <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Nothing here may ever wait for a keyboard: CI runs without stdin.
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                if (value is null)
                {
                    startInfo.Environment.Remove(name);
                }
                else
                {
                    startInfo.Environment[name] = value;
                }
            }
        }

        var commandLine = FormatCommandLine(fileName, arguments);
        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new ProcessResult(commandLine, -1, $"could not start the process: {ex.Message}", TimedOut: false);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the timeout and the kill; nothing left to stop.
            }

            cancellationToken.ThrowIfCancellationRequested();
            return new ProcessResult(commandLine, -1, Snapshot(output), TimedOut: true);
        }

        // The parameterless wait drains the asynchronous output readers.
        process.WaitForExit();
        return new ProcessResult(commandLine, process.ExitCode, Snapshot(output), TimedOut: false);
    }

    /// <summary>Renders a command line the way a shell user would type it, for messages.</summary>
    public static string FormatCommandLine(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { fileName }.Concat(arguments).Select(QuoteForDisplay));

    private static string QuoteForDisplay(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c))
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
