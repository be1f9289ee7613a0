namespace TenantBackup.Cli;

/// <summary>Standard input as a confirmation prompt needs it: can a person answer, and where the answer comes from.</summary>
/// <param name="Reader">Where answers are read from.</param>
/// <param name="IsTerminal">True when a person can type the answer; false for a pipe, a file or /dev/null (cron, systemd, CI).</param>
internal sealed record ConsoleInput(TextReader Reader, bool IsTerminal)
{
    /// <summary>The process's own standard input.</summary>
    public static ConsoleInput FromConsole() => new(Console.In, !Console.IsInputRedirected);
}
