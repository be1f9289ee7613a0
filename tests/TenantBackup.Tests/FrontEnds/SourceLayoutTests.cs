using System.Globalization;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// The house layout of every C# file in the repository (src, tests, build, bench): lines of at most 140 columns, LF line
/// endings, spaces rather than tabs, and a final newline. An editor's ruler and a side-by-side diff depend on the first;
/// the others keep diffs free of noise.
/// </summary>
public class SourceLayoutTests
{
    private const int MaxColumns = 140;

    private static readonly string[] Folders = ["src", "tests", "build", "bench"];

    [Fact]
    public void EveryCSharpFileHasLinesOfAtMost140ColumnsLfEndingsNoTabsAndAFinalNewline()
    {
        var files = SourceFiles().ToList();
        Assert.NotEmpty(files);

        var offenders = files.SelectMany(Offences).ToList();

        Assert.True(
            offenders.Count == 0,
            $"{offenders.Count} layout problem(s):{Environment.NewLine}{string.Join(Environment.NewLine, offenders)}");
    }

    [Fact]
    public void ColumnsAreCountedAsTheReaderSeesThem()
    {
        // "é" written as e + combining accent is two UTF-16 chars but one column on screen.
        Assert.Equal(1, Columns("e\u0301"));
        Assert.Equal(2, Columns("\U0001F600x"));
        Assert.Equal(11, Columns("José Müller"));
    }

    /// <summary>
    /// Columns are text elements (what a reader sees as one character), not UTF-16 chars or UTF-8 bytes: a line naming
    /// "José Müller" is as wide on screen as its ASCII spelling, whatever normal form the file stores it in.
    /// </summary>
    private static int Columns(string line) => new StringInfo(line).LengthInTextElements;

    private static IEnumerable<string> Offences(string path)
    {
        var relative = Path.GetRelativePath(TestPaths.RepoRoot, path).Replace('\\', '/');
        var text = File.ReadAllText(path);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            yield return $"{relative}: does not end with a newline";
        }

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var where = $"{relative}:{i + 1}";
            if (line.EndsWith('\r'))
            {
                yield return $"{where}: CRLF line ending";
                line = line[..^1];
            }

            if (line.Contains('\t', StringComparison.Ordinal))
            {
                yield return $"{where}: tab character";
            }

            var columns = Columns(line);
            if (columns > MaxColumns)
            {
                yield return $"{where}: {columns} columns";
            }
        }
    }

    /// <summary>Every *.cs file under the source folders, leaving out build output (bin, obj) wherever it lies.</summary>
    private static IEnumerable<string> SourceFiles()
    {
        var skipped = new[] { "bin", "obj" };
        return Folders
            .Select(folder => Path.Combine(TestPaths.RepoRoot, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
                .Where(file => !Path.GetRelativePath(folder, file)
                    .Split(Path.DirectorySeparatorChar)
                    .Any(part => skipped.Contains(part, StringComparer.Ordinal))))
            .Order(StringComparer.Ordinal);
    }
}
