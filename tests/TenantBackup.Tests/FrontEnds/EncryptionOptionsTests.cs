using System.Security;
using System.Security.Cryptography;
using TenantBackup.Cli;
using TenantBackup.Cli.Commands;
using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using TenantBackup.PowerShell.Commands;
using TenantBackup.Tests.Archive;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// -EncryptionKeyFile / -Passphrase and --key-file / --passphrase-env: both front ends turn them into the request's key,
/// refuse both at once, never show the passphrase, and the CLI maps a key that does not fit to exit code 6.
/// </summary>
public sealed class EncryptionOptionsTests : IDisposable
{
    private const string Passphrase = "open sesame, tenant 42";

    private readonly Archive.TempFolder _temp = new();
    private readonly string _keyFile;
    private readonly string _variable = "TB_TEST_PASSPHRASE_" + Guid.NewGuid().ToString("N");

    public EncryptionOptionsTests()
    {
        _keyFile = _temp.File("tenant.key");
        File.WriteAllText(_keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        Environment.SetEnvironmentVariable(_variable, Passphrase);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        _temp.Dispose();
    }

    public static TheoryData<string> CliCommands => new() { "backup", "restore", "verify", "sync" };

    [Theory]
    [MemberData(nameof(CliCommands))]
    public void TheCliKeyOptionsReachTheRequest(string command)
    {
        using var fromFile = CliKey(command, "--key-file", _keyFile);
        using var fromVariable = CliKey(command, "--passphrase-env", _variable);
        using var none = CliKey(command);

        Assert.False(fromFile!.IsPassphrase);
        Assert.True(fromVariable!.IsPassphrase);
        Assert.Null(none);
    }

    [Theory]
    [MemberData(nameof(CliCommands))]
    public void TheCliRefusesBothKeysAndAnUnsetVariable(string command)
    {
        var both = Assert.Throws<TenantBackupException>(() => CliKey(command, "--key-file", _keyFile, "--passphrase-env", _variable));
        var unset = Assert.Throws<TenantBackupException>(() => CliKey(command, "--passphrase-env", _variable + "_UNSET"));
        var badFile = Assert.Throws<TenantBackupException>(() => CliKey(command, "--key-file", _temp.File("missing.key")));

        Assert.Equal(ErrorCode.InvalidArgument, both.Code);
        Assert.Equal(ErrorCode.InvalidArgument, unset.Code);
        Assert.Contains(_variable + "_UNSET", unset.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.InvalidArgument, badFile.Code);
        Assert.Equal(ExitCodes.Usage, ExitCodes.For(both.Code));
    }

    [Fact]
    public void AnEncryptedArchiveNameIsAPathForRestoreAndVerify()
    {
        Assert.True(RestoreCommand.IsPath("tenant-42-20250101T000000Z-0192f0c1.tar.zst.tbenc", _ => false));
    }

    [Fact]
    public async Task VerifyExitsSixForAKeyThatDoesNotFitAndZeroWithoutAKey()
    {
        using var key = EncryptionKey.FromKeyFile(_keyFile);
        var archive = await SampleArchive.WriteAsync(_temp, Compression.Gzip, key: key);
        string otherKey = _temp.File("other.key");
        await File.WriteAllBytesAsync(otherKey, RandomNumberGenerator.GetBytes(32));

        var right = await RunAsync("verify", archive.Path, "--key-file", _keyFile, "--json");
        var wrong = await RunAsync("verify", archive.Path, "--key-file", otherKey);
        var without = await RunAsync("verify", archive.Path, "--passphrase-env", _variable);
        var noKey = await RunAsync("verify", archive.Path);

        Assert.Equal(ExitCodes.Integrity, right.ExitCode); // the sample's tenantbackup.json is not a real backup's
        using (var json = System.Text.Json.JsonDocument.Parse(right.Stdout))
        {
            var decryption = json.RootElement[0].GetProperty("checks").EnumerateArray()
                .Single(c => c.GetProperty("name").GetString() == "decryption");
            Assert.Equal("passed", decryption.GetProperty("outcome").GetString());
        }

        Assert.True(wrong.ExitCode == ExitCodes.Decryption, wrong.Stdout + wrong.Stderr);
        Assert.Contains("does not match", wrong.Stdout, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Decryption, without.ExitCode);
        Assert.DoesNotContain(Passphrase, without.Stdout + without.Stderr, StringComparison.Ordinal);
        Assert.True(noKey.ExitCode == ExitCodes.Success, noKey.Stdout + noKey.Stderr);
        Assert.Contains("no key was given", noKey.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreWithAKeyThatDoesNotFitExitsSixBeforeConnecting()
    {
        using var key = EncryptionKey.FromKeyFile(_keyFile);
        var archive = await SampleArchive.WriteAsync(_temp, Compression.Gzip, key: key);

        var (exitCode, _, stderr) = await RunAsync(
            "restore", archive.Path, "--connection", "Host=127.0.0.1;Port=1;Database=app", "--passphrase-env", _variable, "--yes");

        Assert.True(exitCode == ExitCodes.Decryption, stderr);
        Assert.Contains("error DecryptionFailed", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCmdletsTurnTheirParametersIntoTheRequestsKey()
    {
        using var secure = Secure(Passphrase);
        string Resolve(string path) => path == "tenant.key" ? _keyFile : path;

        using (var backup = new NewTenantBackupCommand { Tenant = "42", EncryptionKeyFile = "tenant.key" }.BuildRequest(Resolve).Encryption)
        using (var restore = new RestoreTenantBackupCommand { Id = "x", Passphrase = secure }.BuildRequest(null, Resolve).Encryption)
        using (var verify = new TestBackupIntegrityCommand { EncryptionKeyFile = "tenant.key" }.BuildRequest(null, Resolve).Encryption)
        using (var sync = new SyncBackupIndexCommand { Passphrase = secure }.BuildRequest(Resolve).Encryption)
        {
            Assert.False(backup!.IsPassphrase);
            Assert.True(restore!.IsPassphrase);
            Assert.False(verify!.IsPassphrase);
            Assert.True(sync!.IsPassphrase);
        }

        Assert.Null(new NewTenantBackupCommand { Tenant = "42" }.BuildRequest().Encryption);
    }

    [Fact]
    public async Task ThePassphraseFromASecureStringOpensWhatTheSamePassphraseWrote()
    {
        using var written = EncryptionKey.FromPassphrase(Passphrase);
        var archive = await SampleArchive.WriteAsync(_temp, Compression.None, key: written);
        using var secure = Secure(Passphrase);

        var request = new TestBackupIntegrityCommand { Path = [archive.Path], Passphrase = secure }.BuildRequest();
        using var key = request.Encryption;
        var verification = await ArchiveVerifier.VerifyAsync(archive.Path, key, default);

        Assert.Null(verification.KeyProblem);
        Assert.DoesNotContain(Passphrase, request.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheCmdletsRefuseBothKeys()
    {
        using var secure = Secure(Passphrase);

        var errors = new[]
        {
            Assert.Throws<TenantBackupException>(() =>
                new NewTenantBackupCommand { Tenant = "42", EncryptionKeyFile = _keyFile, Passphrase = secure }.BuildRequest()),
            Assert.Throws<TenantBackupException>(() =>
                new RestoreTenantBackupCommand { Id = "x", EncryptionKeyFile = _keyFile, Passphrase = secure }.BuildRequest()),
            Assert.Throws<TenantBackupException>(() =>
                new TestBackupIntegrityCommand { EncryptionKeyFile = _keyFile, Passphrase = secure }.BuildRequest()),
            Assert.Throws<TenantBackupException>(() =>
                new SyncBackupIndexCommand { EncryptionKeyFile = _keyFile, Passphrase = secure }.BuildRequest()),
        };

        Assert.All(errors, e => Assert.Equal(ErrorCode.InvalidArgument, e.Code));
        Assert.All(errors, e => Assert.Contains("not both", e.Message, StringComparison.Ordinal));
    }

    private static EncryptionKey? CliKey(string command, params string[] options)
    {
        string[] args = command switch
        {
            "backup" => ["backup", "--tenant", "42", .. options],
            "restore" => ["restore", "0192f0c1-0000-7000-8000-000000000042", .. options],
            "verify" => ["verify", .. options],
            _ => ["sync", .. options],
        };
        var parse = Program.Parse(args);
        Assert.Empty(parse.Errors);
        return parse.CommandResult.Command switch
        {
            BackupCommand => BackupCommand.BuildRequest(parse).Encryption,
            RestoreCommand => RestoreCommand.BuildRequest(parse).Encryption,
            VerifyCommand => VerifyCommand.BuildRequest(parse).Encryption,
            SyncCommand sync => sync.BuildRequest(parse).Encryption,
            _ => throw new InvalidOperationException(command),
        };
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Program.RunAsync(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text)
        {
            secure.AppendChar(c);
        }

        secure.MakeReadOnly();
        return secure;
    }
}
