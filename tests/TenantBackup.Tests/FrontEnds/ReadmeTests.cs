using System.Management.Automation.Language;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>The README's promises to someone installing the module: how to install it, and the three everyday pipelines.</summary>
public class ReadmeTests
{
    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "README.md"));

    [Fact]
    public void TheInstallSectionCoversAGalleryTheBuiltPackageAndTheModuleFolder()
    {
        var section = Section("## Install");
        var text = string.Join('\n', section);
        var commands = PowerShellBlocks(section).SelectMany(Commands).ToList();

        Assert.Contains(commands, c => c.GetCommandName() == "Install-PSResource" && Argument(c, "Repository") == "PSGallery");
        var register = Assert.Single(commands, c => c.GetCommandName() == "Register-PSResourceRepository");
        Assert.Contains("./out/packages", register.Extent.Text, StringComparison.Ordinal);
        Assert.Contains(
            commands, c => c.GetCommandName() == "Install-PSResource" && Argument(c, "Repository") == Argument(register, "Name"));
        Assert.Contains(
            commands,
            c => c.GetCommandName() == "Import-Module" && c.Extent.Text.Contains("./out/TenantBackup/", StringComparison.Ordinal));

        // The commands it gives for building name targets that exist, and the places they write to.
        var targets = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "build", "Module.targets"));
        Assert.Contains("-t:Package", text, StringComparison.Ordinal);
        Assert.Contains("-t:Module", text, StringComparison.Ordinal);
        Assert.Contains("<Target Name=\"Package\"", targets, StringComparison.Ordinal);
        Assert.Contains("<Target Name=\"Module\"", targets, StringComparison.Ordinal);
        Assert.Contains("out/packages/TenantBackup.<version>.nupkg", text, StringComparison.Ordinal);
        Assert.Contains($"./out/packages/TenantBackup.{ModuleLayoutTests.VersionPrefix()}.nupkg", text, StringComparison.Ordinal);
        Assert.Contains($"./out/TenantBackup/{ModuleLayoutTests.VersionPrefix()}/TenantBackup.psd1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheThreeEverydayPipelinesAreShown()
    {
        var blocks = PowerShellBlocks(Lines).ToList();
        var pipelines = blocks.SelectMany(b => b.FindAll(a => a is PipelineAst, searchNestedScriptBlocks: true).Cast<PipelineAst>())
            .Select(p => p.PipelineElements.OfType<CommandAst>().ToList())
            .ToList();

        // Back up, then verify what was written.
        Assert.Contains(pipelines, p => Follows(p, "New-TenantBackup", "Test-BackupIntegrity"));
        // The restore plan: the newest backup into Restore-TenantBackup -WhatIf.
        Assert.Contains(pipelines, p => Follows(p, "Get-TenantBackup", "Restore-TenantBackup") && Passes(p[^1], "WhatIf"));
        // Index sync, then retention, in one place.
        Assert.Contains(blocks, b =>
        {
            var commands = Commands(b).ToList();
            return commands.Any(c => c.GetCommandName() == "Sync-BackupIndex" && Passes(c, "Apply"))
                && commands.Any(c => c.GetCommandName() == "Remove-TenantBackup" && c.CommandElements.OfType<CommandParameterAst>()
                    .Any(p => p.ParameterName.StartsWith("Keep", StringComparison.OrdinalIgnoreCase)));
        });
    }

    private static bool Follows(List<CommandAst> pipeline, string first, string second) =>
        pipeline.Zip(pipeline.Skip(1)).Any(pair => pair.First.GetCommandName() == first && pair.Second.GetCommandName() == second);

    private static bool Passes(CommandAst command, string parameter) => command.CommandElements.OfType<CommandParameterAst>()
        .Any(p => string.Equals(p.ParameterName, parameter, StringComparison.OrdinalIgnoreCase));

    private static string? Argument(CommandAst command, string parameter)
    {
        var elements = command.CommandElements;
        for (var i = 0; i < elements.Count - 1; i++)
        {
            if (elements[i] is CommandParameterAst p && string.Equals(p.ParameterName, parameter, StringComparison.OrdinalIgnoreCase))
            {
                return (p.Argument ?? elements[i + 1]) is StringConstantExpressionAst value ? value.Value : null;
            }
        }

        return null;
    }

    private static IEnumerable<CommandAst> Commands(Ast ast)
        => ast.FindAll(a => a is CommandAst, searchNestedScriptBlocks: true).Cast<CommandAst>();

    private static string[] Section(string heading)
    {
        var start = Array.IndexOf(Lines, heading);
        Assert.True(start >= 0, $"README.md has no '{heading}' section.");
        var end = Array.FindIndex(Lines, start + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
        return Lines[start..(end < 0 ? Lines.Length : end)];
    }

    private static IEnumerable<ScriptBlockAst> PowerShellBlocks(IReadOnlyList<string> lines)
    {
        foreach (var code in HelpDocsTests.CodeBlocks(lines))
        {
            var ast = Parser.ParseInput(code, out _, out var errors);
            Assert.Empty(errors.Select(e => e.Message));
            yield return ast;
        }
    }
}
