using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.Json;
using System.Text.RegularExpressions;
using TenantBackup.Cli;
using TenantBackup.Tests.Infrastructure;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The examples in docs/automation are copied into production as they are, so they must be right: the scripts parse, every
/// cmdlet parameter and CLI option they use exists (and the CLI command lines parse as the CLI itself parses them), the
/// playbook is valid YAML, and the systemd units pass <c>systemd-analyze verify</c> where that tool is installed.
/// </summary>
public partial class AutomationExamplesTests
{
    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "docs", "automation");

    private static readonly string Playbook = Path.Combine(Folder, "ansible", "tenantbackup-playbook.yml");

    private static readonly string NightlyScript = Path.Combine(Folder, "tenantbackup-nightly.sh");

    public static TheoryData<string> PowerShellScripts()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Folder, "*.ps1").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void TheFolderHoldsEveryExample()
    {
        string[] expected =
        [
            "README.md", "tenantbackup-nightly.sh", "tenantbackup-nightly.service", "tenantbackup-nightly.timer",
            "tenantbackup-nightly.env.example", "Invoke-NightlyTenantBackup.ps1", "Register-NightlyTenantBackup.ps1",
            "Invoke-TenantBackupState.ps1", Path.Combine("ansible", "tenantbackup-playbook.yml"),
        ];

        Assert.All(expected, name => Assert.True(File.Exists(Path.Combine(Folder, name)), $"{name} is missing."));
        Assert.Contains(
            "docs/automation/README.md", File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PowerShellScripts))]
    public void ScriptParsesAndCallsOnlyRealCmdletParameters(string fileName)
    {
        var ast = Parser.ParseFile(Path.Combine(Folder, fileName), out _, out var errors);

        Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
        Assert.Empty(UnknownParameters(ast));
    }

    [Theory]
    [InlineData("Invoke-NightlyTenantBackup.ps1", new[] { "New-TenantBackup", "Test-BackupIntegrity", "Remove-TenantBackup" })]
    [InlineData("Invoke-TenantBackupState.ps1", new[] { "Get-TenantBackup", "New-TenantBackup", "Test-BackupIntegrity" })]
    [InlineData("Register-NightlyTenantBackup.ps1", new[] { "Register-ScheduledTask", "New-ScheduledTaskTrigger" })]
    public void ScriptCallsTheCommandsItIsAbout(string fileName, string[] commands)
    {
        var ast = Parser.ParseFile(Path.Combine(Folder, fileName), out _, out _);

        Assert.Subset(CommandNames(ast), commands.ToHashSet(StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void TheNightlyScriptRemovesWithRetentionAndWithoutAsking()
    {
        var ast = Parser.ParseFile(Path.Combine(Folder, "Invoke-NightlyTenantBackup.ps1"), out _, out _);
        var remove = Commands(ast).Single(c => c.GetCommandName() == "Remove-TenantBackup");
        var parameters = remove.CommandElements.OfType<CommandParameterAst>().Select(p => p.ParameterName).ToList();

        Assert.Subset(parameters.ToHashSet(), new HashSet<string> { "KeepDaily", "KeepWeekly", "KeepMonthly", "Confirm" });
        Assert.Contains(Commands(ast), c => c.GetCommandName() == "Start-Transcript");
    }

    [Fact]
    public void ThePlaybooksPowerShellParsesAndCallsOnlyRealCmdletParameters()
    {
        var scripts = PlaybookScripts().ToList();

        Assert.Equal(2, scripts.Count);
        foreach (var script in scripts)
        {
            var ast = Parser.ParseInput(script, out _, out var errors);
            Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
            Assert.Empty(UnknownParameters(ast));
            Assert.Contains(CommandNames(ast), CmdletMetadataTests.CmdletNames().Contains);
        }
    }

    [Fact]
    public async Task TheBashScriptPassesBashN()
    {
        var result = await ProcessRunner.RunAsync("bash", ["-n", NightlyScript], TimeSpan.FromSeconds(30));

        Assert.True(result.Succeeded, result.Describe());
        Assert.StartsWith("#!/usr/bin/env bash\n", File.ReadAllText(NightlyScript), StringComparison.Ordinal);
        Assert.Contains("set -euo pipefail", File.ReadAllText(NightlyScript), StringComparison.Ordinal);
    }

    [Fact]
    public void TheBashScriptsCommandLinesParseAsTheCliParsesThem()
    {
        var commandLines = ShellCommandLines(File.ReadAllText(NightlyScript)).ToList();

        Assert.Equal(["backup", "verify", "prune"], commandLines.Select(c => c[0]));
        Assert.All(commandLines, AssertParses);
        Assert.Contains("--json", commandLines[0]);
        Assert.Contains("--quick", commandLines[1]);
        Assert.Subset(commandLines[2].ToHashSet(), new HashSet<string> { "--keep-daily", "--keep-weekly", "--keep-monthly" });
    }

    [Theory]
    [InlineData("tenantbackup-nightly.service")]
    [InlineData("tenantbackup-nightly.timer")]
    [InlineData("tenantbackup-nightly.env.example")]
    public void TheUnitsUseOnlyRealCliCommandLinesAndHoldNoSecret(string fileName)
    {
        var text = File.ReadAllText(Path.Combine(Folder, fileName));

        Assert.All(ShellCommandLines(text), AssertParses);
        Assert.DoesNotMatch(PasswordSetting(), text);
    }

    [Fact]
    public void TheUnitsHaveTheScheduleAndTheEnvironmentFile()
    {
        var service = File.ReadAllText(Path.Combine(Folder, "tenantbackup-nightly.service"));
        var timer = File.ReadAllText(Path.Combine(Folder, "tenantbackup-nightly.timer"));

        Assert.Contains("\nEnvironmentFile=", service, StringComparison.Ordinal);
        Assert.Contains("\nType=oneshot", service, StringComparison.Ordinal);
        Assert.Contains("\nOnCalendar=", timer, StringComparison.Ordinal);
        Assert.Contains("\nPersistent=true", timer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheUnitsPassSystemdAnalyzeWhereItIsInstalled()
    {
        // systemd-analyze is part of systemd; on a host without it there is nothing to run, and the structural test
        // above still holds.
        if (FindOnPath("systemd-analyze") is not { } analyze)
        {
            return;
        }

        using var temp = new TempFolder();
        var service = File.ReadAllText(Path.Combine(Folder, "tenantbackup-nightly.service"));
        // ExecStart must name an executable that exists: point it at the script in this tree instead of its installed path.
        File.WriteAllText(
            Path.Combine(temp.Path, "tenantbackup-nightly.service"),
            ExecStart().Replace(service, $"ExecStart={NightlyScript}"));
        File.Copy(Path.Combine(Folder, "tenantbackup-nightly.timer"), Path.Combine(temp.Path, "tenantbackup-nightly.timer"));

        var result = await ProcessRunner.RunAsync(
            analyze,
            ["verify", Path.Combine(temp.Path, "tenantbackup-nightly.timer"), Path.Combine(temp.Path, "tenantbackup-nightly.service")],
            TimeSpan.FromSeconds(60));

        Assert.True(result.Succeeded, result.Describe());
        Assert.Empty(result.Output.Trim());
    }

    [Fact]
    public async Task ThePlaybookIsValidYamlWithTwoPlays()
    {
        var text = File.ReadAllText(Playbook);
        Assert.DoesNotContain("\t", text, StringComparison.Ordinal);

        // PyYAML when the machine has it (it is the parser Ansible itself uses); otherwise the plays are counted by hand.
        var python = FindOnPath("python3") is { } found
            ? await ProcessRunner.RunAsync(
                found,
                ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", Playbook],
                TimeSpan.FromSeconds(60))
            : null;
        if (python is { Succeeded: true })
        {
            using var document = JsonDocument.Parse(python.Output);
            var plays = document.RootElement.EnumerateArray().ToList();
            Assert.Equal(["tenantbackup_windows", "tenantbackup_linux"], plays.Select(p => p.GetProperty("hosts").GetString()));
            var modules = plays.SelectMany(p => p.GetProperty("tasks").EnumerateArray())
                .SelectMany(t => t.EnumerateObject().Select(o => o.Name))
                .ToHashSet(StringComparer.Ordinal);
            Assert.Subset(modules, new HashSet<string> { "ansible.windows.win_powershell", "ansible.builtin.command" });
        }
        else
        {
            Assert.True(python is null || python.Output.Contains("No module named 'yaml'", StringComparison.Ordinal), python?.Describe());
            var plays = text.Split('\n').Where(line => line.StartsWith("- name: ", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, plays.Count);
            Assert.Contains("  hosts: tenantbackup_windows\n", text, StringComparison.Ordinal);
            Assert.Contains("  hosts: tenantbackup_linux\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ThePlaybooksCliCommandLinesParseAsTheCliParsesThem()
    {
        var commandLines = PlaybookArgv().ToList();

        Assert.Equal(["backup", "verify", "prune"], commandLines.Select(c => c[0]));
        Assert.All(commandLines, c => Assert.Contains("--json", c));
        Assert.All(commandLines, AssertParses);
    }

    [Fact]
    public void ThePlaybookDecidesChangedAndFailedFromTheExitCodes()
    {
        var text = File.ReadAllText(Playbook);

        Assert.Equal(3, ChangedWhen().Matches(text).Count);
        Assert.Equal(3, FailedWhen().Matches(text).Count);
        Assert.Contains("from_json", text, StringComparison.Ordinal);
        Assert.Contains(".rc != 0", text, StringComparison.Ordinal);
    }

    /// <summary>The tenantbackup command lines of a shell text, values replaced by X: <c>["backup", "--tenant", "X", ...]</c>.</summary>
    internal static IEnumerable<string[]> ShellCommandLines(string text)
    {
        var joined = text.Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var line in joined.Split('\n').Where(l => !l.TrimStart().StartsWith('#')))
        {
            foreach (Match match in ShellInvocation().Matches(line))
            {
                var arguments = Quoted().Replace(match.Groups["args"].Value, "X");
                yield return [match.Groups["command"].Value, .. arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
            }
        }
    }

    private static void AssertParses(string[] commandLine)
    {
        var result = Program.CreateRootCommand().Parse(commandLine);

        Assert.True(
            result.Errors.Count == 0, $"{string.Join(' ', commandLine)}: {string.Join("; ", result.Errors.Select(e => e.Message))}");
        Assert.Equal(commandLine[0], result.CommandResult.Command.Name);
    }

    /// <summary>The argv lists of the playbook's tenantbackup commands, without the executable, templates replaced by X.</summary>
    private static IEnumerable<string[]> PlaybookArgv()
    {
        var lines = File.ReadAllLines(Playbook);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "argv:")
            {
                continue;
            }

            var items = new List<string>();
            var indent = lines[i].IndexOf('a', StringComparison.Ordinal);
            for (var j = i + 1;
                j < lines.Length
                    && lines[j].IndexOf('-', StringComparison.Ordinal) > indent
                    && lines[j].TrimStart().StartsWith("- ", StringComparison.Ordinal);
                j++)
            {
                var value = lines[j].TrimStart()[2..].Trim();
                items.Add(value.Contains("{{", StringComparison.Ordinal) ? "X" : value.Trim('"'));
            }

            Assert.Equal("tenantbackup", items[0]);
            yield return items.Skip(1).ToArray();
        }
    }

    /// <summary>The <c>script: |</c> blocks of the playbook, de-indented.</summary>
    private static IEnumerable<string> PlaybookScripts()
    {
        var lines = File.ReadAllLines(Playbook);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "script: |")
            {
                continue;
            }

            var block = new List<string>();
            var indent = lines[i].IndexOf('s', StringComparison.Ordinal) + 2;
            for (var j = i + 1; j < lines.Length && (lines[j].Length == 0 || lines[j].TakeWhile(c => c == ' ').Count() >= indent); j++)
            {
                block.Add(lines[j].Length == 0 ? string.Empty : lines[j][indent..]);
            }

            yield return string.Join('\n', block);
        }
    }

    /// <summary>Every "Cmdlet -Parameter" in the script whose cmdlet is one of the module's and whose parameter it lacks.</summary>
    private static List<string> UnknownParameters(Ast ast)
    {
        var cmdlets = CmdletMetadataTests.CmdletAssembly.GetTypes()
            .Where(t => t.GetCustomAttributes(typeof(CmdletAttribute), false).Length > 0)
            .Select(t => (Attribute: (CmdletAttribute)t.GetCustomAttributes(typeof(CmdletAttribute), false)[0], Type: t))
            .Select(c => new CmdletInfo($"{c.Attribute.VerbName}-{c.Attribute.NounName}", c.Type))
            .ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);

        var unknown = new List<string>();
        foreach (var command in Commands(ast))
        {
            if (command.GetCommandName() is not { } name || !cmdlets.TryGetValue(name, out var cmdlet))
            {
                continue;
            }

            var known = cmdlet.Parameters.Values.SelectMany(p => p.Aliases.Prepend(p.Name)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            unknown.AddRange(command.CommandElements.OfType<CommandParameterAst>()
                .Where(p => !known.Contains(p.ParameterName))
                .Select(p => $"{name} -{p.ParameterName} (line {p.Extent.StartLineNumber})"));
        }

        return unknown;
    }

    private static IEnumerable<CommandAst> Commands(Ast ast) =>
        ast.FindAll(node => node is CommandAst, searchNestedScriptBlocks: true).Cast<CommandAst>();

    private static HashSet<string> CommandNames(Ast ast) =>
        Commands(ast).Select(c => c.GetCommandName()).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    // A command word "tenantbackup", then a command and its arguments up to the end of the shell command.
    [GeneratedRegex(@"(?<![\w/-])tenantbackup\s+(?<command>[a-z]+)(?<args>[^;|&)>]*)")]
    private static partial Regex ShellInvocation();

    // A double-quoted shell word, e.g. "${tenant}" or "nightly".
    [GeneratedRegex("\"[^\"]*\"")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"(?im)^\s*(PGPASSWORD|Password)\s*=|Password=[^;\s]")]
    private static partial Regex PasswordSetting();

    [GeneratedRegex(@"(?m)^ExecStart=.*$")]
    private static partial Regex ExecStart();

    [GeneratedRegex(@"(?m)^\s+changed_when: ")]
    private static partial Regex ChangedWhen();

    [GeneratedRegex(@"(?m)^\s+failed_when: ")]
    private static partial Regex FailedWhen();
}
