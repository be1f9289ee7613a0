using System.Diagnostics;
using System.Text;

namespace TenantBackup.Tests.Archive;

/// <summary>A temporary folder, deleted with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tb-archive-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Runs the real command-line tools the archive must interoperate with.</summary>
internal static class Cli
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string Text => Encoding.UTF8.GetString(Stdout);
    }

    public static async Task<Result> RunAsync(
        string program, IEnumerable<string> arguments, byte[]? stdin = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = new MemoryStream();
        Task copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> readErr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        await Task.WhenAll(copyOut, readErr, process.WaitForExitAsync());
        return new Result(process.ExitCode, stdout.ToArray(), await readErr);
    }

    public static async Task<Result> MustRunAsync(
        string program, IEnumerable<string> arguments, byte[]? stdin = null, string? workingDirectory = null)
    {
        Result result = await RunAsync(program, arguments, stdin, workingDirectory);
        Xunit.Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Stderr}");
        return result;
    }
}

/// <summary>Test data that compresses like real data: random bytes and text.</summary>
internal static class TestData
{
    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>COPY text: rows of tab-separated columns, each ending with a newline.</summary>
    public static string CopyText(int rows, int seed, int wideColumn = 20)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        for (int i = 1; i <= rows; i++)
        {
            text.Append(i).Append('\t').Append(42).Append('\t').Append("customer ").Append(random.Next(100000)).Append('\t')
                .Append(new string((char)('a' + (i % 26)), random.Next(wideColumn)))
                .Append("\tnote with \\t escaped tab\\nand newline\t\\N\n");
        }

        return text.ToString();
    }

    public static byte[] Mixed(int length, int seed)
    {
        byte[] text = Encoding.UTF8.GetBytes(CopyText(length / 60 + 1, seed));
        byte[] random = Random(length / 2, seed);
        var result = new byte[length];
        random.AsSpan().CopyTo(result);
        text.AsSpan(0, length - random.Length).CopyTo(result.AsSpan(random.Length));
        return result;
    }
}
