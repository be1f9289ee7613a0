using TenantBackup.Engine;
using TenantBackup.Engine.Archive;
using Xunit;

namespace TenantBackup.Tests.Archive;

public class Sha256FileTests
{
    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public async Task WrittenSidecar_IsAcceptedBySha256sum_AndReadBack()
    {
        using var temp = new TempFolder();
        string archive = temp.File("t-1.tar.zst");
        await File.WriteAllTextAsync(archive, "test");

        await Sha256File.WriteAsync(archive, Hash, default);

        Assert.Equal($"{Hash}  t-1.tar.zst\n", await File.ReadAllTextAsync(Sha256File.PathFor(archive)));
        await Cli.MustRunAsync("sha256sum", ["-c", "--strict", "t-1.tar.zst.sha256"], workingDirectory: temp.Path);
        Assert.Equal(Hash, await Sha256File.ReadAsync(archive, default));
        Assert.Null(await Sha256File.ReadAsync(temp.File("other"), default));
    }

    [Theory]
    [InlineData($"{Hash} *t.tar\n")]
    [InlineData($"{Hash}  t.tar")]
    [InlineData($"{Hash}  t.tar\r\n")]
    [InlineData("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08  t.tar\n")]
    public void Parse_AcceptsSha256sumVariants(string content) =>
        Assert.Equal(Hash, Sha256File.Parse(content, "t.tar", "t.tar.sha256"));

    [Theory]
    [InlineData($"{Hash}  other.tar\n")]
    [InlineData($"{Hash}  t.tar\n{Hash}  t.tar\n")]
    [InlineData("abc  t.tar\n")]
    [InlineData("")]
    public void Parse_RefusesAnythingElse(string content)
    {
        var ex = Assert.Throws<TenantBackupException>(() => Sha256File.Parse(content, "t.tar", "t.tar.sha256"));
        Assert.Equal(ErrorCode.ChecksumMismatch, ex.Code);
    }
}
