using System.Management.Automation.Language;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The PowerShell scripts (Build.ps1, the Pester suite) cannot run without pwsh, but PowerShell's own parser can read
/// them here: syntax errors and the structure the house style asks for are caught before a machine with pwsh sees them.
/// </summary>
public class ScriptTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string> { "Build.ps1" };
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "tests", "Pester"), "*.ps1").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(TestPaths.RepoRoot, file));
        }

        return data;
    }

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in CmdletMetadataTests.CmdletNames())
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void ScriptsParseWithoutErrors(string relativePath)
    {
        Parser.ParseFile(Path.Combine(TestPaths.RepoRoot, relativePath), out _, out var errors);

        Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
    }

    [Fact]
    public void BuildPs1HasTheFourTasksAndTheConfigurationParameter()
    {
        var ast = Parser.ParseFile(Path.Combine(TestPaths.RepoRoot, "Build.ps1"), out _, out _);
        var parameters = ast.ParamBlock.Parameters.ToDictionary(p => p.Name.VariablePath.UserPath, StringComparer.OrdinalIgnoreCase);

        var taskSet = parameters["Task"].Attributes.OfType<AttributeAst>().Single(a => a.TypeName.Name == "ValidateSet");
        Assert.Equal(
            ["Clean", "Build", "Test", "Package"], taskSet.PositionalArguments.Cast<StringConstantExpressionAst>().Select(s => s.Value));
        Assert.Equal("Release", ((StringConstantExpressionAst)parameters["Configuration"].DefaultValue!).Value);
        Assert.Contains("module/files.txt", ast.Extent.Text, StringComparison.Ordinal);
        Assert.Contains("VersionPrefix", ast.Extent.Text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdletHasAPesterFileThatOpensWithValidateParameters(string cmdlet)
    {
        var path = Path.Combine(TestPaths.RepoRoot, "tests", "Pester", $"{cmdlet}.Tests.ps1");
        Assert.True(File.Exists(path), $"{path} is missing.");
        var ast = Parser.ParseFile(path, out _, out _);

        var contexts = ast
            .FindAll(node => node is CommandAst command && command.GetCommandName() == "Context", searchNestedScriptBlocks: true)
            .Cast<CommandAst>()
            .Select(command => ((StringConstantExpressionAst)command.CommandElements[1]).Value)
            .ToList();

        Assert.Equal("Validate parameters", contexts[0]);
        Assert.Contains("Error ids", contexts);
        Assert.Contains("Pipeline binding", contexts);
        Assert.Contains("Should -HaveParameter", ast.Extent.Text, StringComparison.Ordinal);
        Assert.Contains("$TestDrive", ast.Extent.Text, StringComparison.Ordinal);
        Assert.Contains("-WhatIf", ast.Extent.Text, StringComparison.Ordinal);
        Assert.Contains(
            "TENANTBACKUP_TEST_CONNECTION",
            File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Pester", "TestHelpers.ps1")),
            StringComparison.Ordinal);
    }
}
