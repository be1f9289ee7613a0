using System.Globalization;
using System.Management.Automation;
using System.Security;
using System.Text.Json;
using TenantBackup.Engine;
using TenantBackup.Engine.Logging;
using TenantBackup.PowerShell;
using TenantBackup.PowerShell.Internal;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>A database cmdlet whose engine run repeats the password and the connection string in every message it can.</summary>
[Cmdlet(VerbsDiagnostic.Test, "DatabaseRun")]
[OutputType(typeof(BackupInfo))]
public sealed class TestDatabaseRunCommand : DatabaseCmdlet
{
    protected override void ProcessRecord()
    {
        var connectionString = BuildConnectionString();
        var password = Credential?.GetNetworkCredential().Password ?? ConnectionString;
        RunEngine<BackupInfo>(0x7BFE, "Testing", null, (log, _, _) =>
        {
            log.Write(EngineLogLevel.Information, $"connecting with {connectionString}");
            log.Write(EngineLogLevel.Warning, $"the password is {password}");
            throw new TenantBackupException(ErrorCode.AuthenticationFailed, $"password {password} rejected ({connectionString})");
        });
    }
}

/// <summary>-LogPath: the JSON-lines record a scheduled job leaves, in a real PowerShell pipeline.</summary>
public sealed class RunLogTests : IDisposable
{
    private const string Password = "Tr0ub4dor&3-never-logged";

    private static readonly BackupInfo Result = GetTenantBackupFilterTests.Backup("0001", "42", BackupKinds.Full, DateTimeOffset.UnixEpoch);

    private readonly TempFolder _folder = new();

    private string LogPath => Path.Combine(_folder.Path, "run.jsonl");

    public void Dispose() => _folder.Dispose();

    private System.Management.Automation.PowerShell Session(
        Func<IEngineLog, IProgress<ProgressEvent>, CancellationToken, Task<BackupInfo>> operation)
    {
        var ps = PowerShellSession.Create(("Test-EngineRun", typeof(TestEngineRunCommand)));
        ps.AddCommand("Test-EngineRun").AddParameter("Operation", operation).AddParameter("LogPath", LogPath);
        return ps;
    }

    private List<JsonElement> Lines() => File.ReadAllLines(LogPath).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

    [Fact]
    public void EachOperationLeavesItsStepsAndItsOutcomeOneJsonObjectPerLine()
    {
        using var ps = Session((log, _, _) =>
        {
            log.Write(EngineLogLevel.Information, "exporting \"public\".invoices");
            log.Write(EngineLogLevel.Debug, "block of 65536 bytes");
            log.Write(EngineLogLevel.Warning, "libzstd not found; using gzip");
            return Task.FromResult(Result);
        });

        var output = ps.Invoke();

        Assert.Same(Result, Assert.Single(output).BaseObject);
        var lines = Lines();
        Assert.Equal(
            ["Testing item", "exporting \"public\".invoices", "libzstd not found; using gzip", "Testing item: done"],
            lines.Select(l => l.GetProperty("message").GetString()));
        Assert.Equal(["Information", "Information", "Warning", "Information"], lines.Select(l => l.GetProperty("level").GetString()));
        Assert.All(lines, l => Assert.Equal("Test-EngineRun", l.GetProperty("cmdlet").GetString()));
        Assert.All(lines, l => Assert.True(
            DateTime.TryParseExact(
                l.GetProperty("timestamp").GetString(),
                "yyyy-MM-ddTHH:mm:ss.fffZ",
                CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal,
                out var at)
            && Math.Abs((DateTime.UtcNow - at).TotalMinutes) < 5));
        Assert.Equal("ok", lines[^1].GetProperty("outcome").GetString());
        Assert.All(lines.SkipLast(1), l => Assert.False(l.TryGetProperty("outcome", out _)));

        // -Verbose was not asked for: the file has the steps, the pipeline only the warning.
        Assert.Empty(ps.Streams.Verbose);
        Assert.Single(ps.Streams.Warning);
    }

    [Fact]
    public void DebugPutsTheDebugEntriesInTheFileToo()
    {
        using var ps = Session((log, _, _) =>
        {
            log.Write(EngineLogLevel.Debug, "block of 65536 bytes");
            return Task.FromResult(Result);
        });
        ps.AddParameter("Debug");

        ps.Invoke();

        Assert.Contains(
            Lines(),
            l => l.GetProperty("level").GetString() == "Debug" && l.GetProperty("message").GetString() == "block of 65536 bytes");
    }

    [Fact]
    public void AFailedItemEndsWithItsErrorIdAndTheNextRunAppends()
    {
        using (var first = Session((_, _, _) => Task.FromResult(Result)))
        {
            first.Invoke();
        }

        using var ps = Session(
            (_, _, _) => throw new TenantBackupException(ErrorCode.TenantLocked, "Tenant 42 is locked by a restore.", "42"));
        ps.Invoke(new[] { "a", "b" });

        var outcomes = Lines().Where(l => l.TryGetProperty("outcome", out _)).ToList();
        Assert.Equal(["ok", "error", "error"], outcomes.Select(l => l.GetProperty("outcome").GetString()));
        Assert.All(outcomes.Skip(1), l =>
        {
            Assert.Equal("TenantLocked", l.GetProperty("errorId").GetString());
            Assert.Equal("Error", l.GetProperty("level").GetString());
            Assert.Equal("Tenant 42 is locked by a restore.", l.GetProperty("message").GetString());
        });
        Assert.Equal(2, ps.Streams.Error.Count);
    }

    [Fact]
    public async Task AStoppedOperationEndsWithTheCancelledId()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var ps = Session(async (_, _, token) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            return Result;
        });

        var invocation = ps.BeginInvoke();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        ps.Stop();
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(invocation));

        var last = Lines()[^1];
        Assert.Equal("error", last.GetProperty("outcome").GetString());
        Assert.Equal("Cancelled", last.GetProperty("errorId").GetString());
        Assert.Equal("Testing item: stopped", last.GetProperty("message").GetString());
    }

    [Fact]
    public void ALogFileThatCannotBeOpenedStopsTheCommandBeforeTheEngineRuns()
    {
        var ran = false;
        using var ps = PowerShellSession.Create(("Test-EngineRun", typeof(TestEngineRunCommand)));
        ps.AddCommand("Test-EngineRun")
            .AddParameter("Operation", (Func<IEngineLog, IProgress<ProgressEvent>, CancellationToken, Task<BackupInfo>>)((_, _, _) =>
            {
                ran = true;
                return Task.FromResult(Result);
            }))
            .AddParameter("LogPath", Path.Combine(_folder.Path, "no-such-folder", "run.jsonl"));

        var error = ps.InvokeCatching(out var output);

        Assert.NotNull(error);
        Assert.StartsWith(ErrorIds.LogPathUnavailable + ",", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.OpenError, error.CategoryInfo.Category);
        Assert.Empty(output);
        Assert.False(ran);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "no-such-folder")));
    }

    [Fact]
    public void AFailedBackupLogsItsErrorIdButNeverThePasswordOfTheCredentialOrTheConnectionString()
    {
        // Nothing listens on port 1: the connection fails at once, after the command has the password in hand.
        using var secure = new SecureString();
        foreach (var c in Password)
        {
            secure.AppendChar(c);
        }

        using (var ps = PowerShellSession.Create())
        {
            ps.AddCommand("New-TenantBackup").AddParameter("Tenant", "42").AddParameter("Server", "127.0.0.1").AddParameter("Port", 1)
                .AddParameter("Database", "app").AddParameter("Credential", new PSCredential("backup", secure))
                .AddParameter("Repository", Path.Combine(_folder.Path, "repo")).AddParameter("LogPath", LogPath).AddParameter("Verbose");
            Assert.NotNull(ps.InvokeCatching(out _));
        }

        using (var ps = PowerShellSession.Create())
        {
            ps.AddCommand("New-TenantBackup").AddParameter("Tenant", "42")
                .AddParameter("ConnectionString", $"Host=127.0.0.1;Port=1;Database=app;Username=backup;Password={Password}")
                .AddParameter("Repository", Path.Combine(_folder.Path, "repo")).AddParameter("LogPath", LogPath).AddParameter("Debug");
            Assert.NotNull(ps.InvokeCatching(out _));
        }

        var text = File.ReadAllText(LogPath);
        Assert.DoesNotContain(Password, text, StringComparison.Ordinal);
        Assert.DoesNotContain("Tr0ub4dor", text, StringComparison.Ordinal);
        var outcomes = Lines().Where(l => l.TryGetProperty("outcome", out _)).ToList();
        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, l => Assert.Equal("ConnectionFailed", l.GetProperty("errorId").GetString()));
        Assert.All(Lines(), l => Assert.Equal("New-TenantBackup", l.GetProperty("cmdlet").GetString()));
    }

    [Fact]
    public void PasswordsTheCommandKnowsAreMaskedWhereverTheyAppear()
    {
        using var secure = new SecureString();
        foreach (var c in Password)
        {
            secure.AppendChar(c);
        }

        using (var ps = PowerShellSession.Create(("Test-DatabaseRun", typeof(TestDatabaseRunCommand))))
        {
            ps.AddCommand("Test-DatabaseRun").AddParameter("Server", "db1").AddParameter("Credential", new PSCredential("backup", secure))
                .AddParameter("LogPath", LogPath);
            Assert.NotNull(ps.InvokeCatching(out _));
        }

        // In a connection string the password goes masked, and so does the string's own text when the message repeats it.
        using (var ps = PowerShellSession.Create(("Test-DatabaseRun", typeof(TestDatabaseRunCommand))))
        {
            ps.AddCommand("Test-DatabaseRun").AddParameter("ConnectionString", $"Host=db1;Username=backup;Password={Password}")
                .AddParameter("LogPath", LogPath);
            Assert.NotNull(ps.InvokeCatching(out _));
        }

        var lines = Lines();
        Assert.Equal(8, lines.Count);
        Assert.DoesNotContain("Tr0ub4dor", File.ReadAllText(LogPath), StringComparison.Ordinal);
        Assert.Contains(lines, l => l.GetProperty("message").GetString() == "the password is " + RunLogFile.Mask);
        Assert.All(
            lines.Where(l => l.TryGetProperty("outcome", out _)),
            l => Assert.Equal("AuthenticationFailed", l.GetProperty("errorId").GetString()));
    }

    [Theory]
    [InlineData("Host=db1;Password=abc;Database=app", "Host=db1;Password=********;Database=app")]
    [InlineData("host=db1 password='a b' dbname=app", "host=db1 password=******** dbname=app")]
    [InlineData("PWD = x;", "PWD=********;")]
    [InlineData("login failed for s3cret", "login failed for ********")]
    [InlineData("nothing to hide", "nothing to hide")]
    public void MessagesAreRedacted(string message, string expected)
        => Assert.Equal(expected, RunLogFile.Redact(message, ["s3cret"]));
}
