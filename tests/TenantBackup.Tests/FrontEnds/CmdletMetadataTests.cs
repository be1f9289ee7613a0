using System.Management.Automation;
using System.Reflection;
using TenantBackup.Engine;
using TenantBackup.PowerShell;
using TenantBackup.PowerShell.Commands;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>The cmdlet assembly's metadata, read by reflection: what PowerShell and the manifest rely on.</summary>
public class CmdletMetadataTests
{
    /// <summary>The output of <c>Get-Verb</c> (PowerShell 7.4), by group.</summary>
    internal static readonly Dictionary<string, string[]> ApprovedVerbs = new()
    {
        ["Common"] =
        [
            "Add", "Clear", "Close", "Copy", "Enter", "Exit", "Find", "Format", "Get", "Hide", "Join", "Lock", "Move", "New", "Open",
            "Optimize", "Pop", "Push", "Redo", "Remove", "Rename", "Reset", "Resize", "Search", "Select", "Set", "Show", "Skip",
            "Split", "Step", "Switch", "Undo", "Unlock", "Watch",
        ],
        ["Communications"] = ["Connect", "Disconnect", "Read", "Receive", "Send", "Write"],
        ["Data"] =
        [
            "Backup", "Checkpoint", "Compare", "Compress", "Convert", "ConvertFrom", "ConvertTo", "Dismount", "Edit", "Expand",
            "Export", "Group", "Import", "Initialize", "Limit", "Merge", "Mount", "Out", "Publish", "Restore", "Save", "Sync",
            "Unpublish", "Update",
        ],
        ["Diagnostic"] = ["Debug", "Measure", "Ping", "Repair", "Resolve", "Test", "Trace"],
        ["Lifecycle"] =
        [
            "Approve", "Assert", "Build", "Complete", "Confirm", "Deny", "Deploy", "Disable", "Enable", "Install", "Invoke",
            "Register", "Request", "Restart", "Resume", "Start", "Stop", "Submit", "Suspend", "Uninstall", "Unregister", "Wait",
        ],
        ["Security"] = ["Block", "Grant", "Protect", "Revoke", "Unblock", "Unprotect"],
        ["Other"] = ["Use"],
    };

    internal static readonly Assembly CmdletAssembly = typeof(TenantBackupCmdlet).Assembly;

    public static TheoryData<Type> CmdletTypes()
    {
        var data = new TheoryData<Type>();
        foreach (var type in CmdletAssembly.GetTypes().Where(t => t.GetCustomAttributesData().Any(IsCmdletAttribute)))
        {
            data.Add(type);
        }

        return data;
    }

    /// <summary>Verb-Noun of every cmdlet in the assembly, read from the attribute data (no instance needed).</summary>
    internal static IReadOnlyList<string> CmdletNames() => CmdletAssembly.GetTypes()
        .SelectMany(t => t.GetCustomAttributesData().Where(IsCmdletAttribute))
        .Select(a => $"{a.ConstructorArguments[0].Value}-{a.ConstructorArguments[1].Value}")
        .Order(StringComparer.Ordinal)
        .ToList();

    [Fact]
    public void TheAssemblyHasTheCmdletsOfThisStage()
    {
        Assert.Equal(
            [
                "Get-TenantBackup", "New-TenantBackup", "Remove-TenantBackup", "Restore-TenantBackup", "Sync-BackupIndex",
                "Test-BackupIntegrity",
            ],
            CmdletNames());
    }

    [Fact]
    public void TheApprovedVerbListMatchesPowerShellsOwnVerbClasses()
    {
        // Get-Verb reads the public constants of these classes.
        Type[] verbClasses =
        [
            typeof(VerbsCommon), typeof(VerbsCommunications), typeof(VerbsData), typeof(VerbsDiagnostic), typeof(VerbsLifecycle),
            typeof(VerbsSecurity), typeof(VerbsOther),
        ];
        var fromPowerShell = verbClasses
            .SelectMany(c => c.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(f => (string)f.GetValue(null)!)
            .ToHashSet(StringComparer.Ordinal);

        Assert.Subset(fromPowerShell, ApprovedVerbs.Values.SelectMany(v => v).ToHashSet(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CmdletTypes))]
    public void EveryCmdletUsesAnApprovedVerbAndTheModulesNouns(Type type)
    {
        var attribute = type.GetCustomAttributesData().Single(IsCmdletAttribute);
        var verb = (string)attribute.ConstructorArguments[0].Value!;
        var noun = (string)attribute.ConstructorArguments[1].Value!;

        Assert.Contains(verb, ApprovedVerbs.Values.SelectMany(v => v));
        Assert.Contains(noun, (string[])["TenantBackup", "BackupIntegrity", "BackupIndex"]);
        Assert.Equal($"{verb}{noun}Command", type.Name);
        Assert.Equal("TenantBackup.PowerShell.Commands", type.Namespace);
    }

    [Theory]
    [MemberData(nameof(CmdletTypes))]
    public void EveryCmdletIsPublicSealedAndDerivesFromTheBaseClass(Type type)
    {
        Assert.True(type.IsPublic);
        Assert.True(type.IsSealed);
        Assert.True(type.IsSubclassOf(typeof(TenantBackupCmdlet)));
    }

    [Theory]
    [MemberData(nameof(CmdletTypes))]
    public void EveryCmdletDeclaresItsOutputType(Type type)
    {
        var outputTypes = type.GetCustomAttributes<OutputTypeAttribute>().SelectMany(a => a.Type).ToList();

        Assert.NotEmpty(outputTypes);
        Assert.All(outputTypes, t => Assert.NotNull(t.Type));
    }

    [Fact]
    public void BothCmdletsOutputBackupInfo()
    {
        Assert.Equal(typeof(BackupInfo), typeof(NewTenantBackupCommand).GetCustomAttribute<OutputTypeAttribute>()!.Type.Single().Type);
        Assert.Equal(typeof(BackupInfo), typeof(GetTenantBackupCommand).GetCustomAttribute<OutputTypeAttribute>()!.Type.Single().Type);
    }

    [Fact]
    public void NewTenantBackupSupportsShouldProcessAndDefaultsToTheConnectionStringSet()
    {
        var attribute = typeof(NewTenantBackupCommand).GetCustomAttribute<CmdletAttribute>()!;

        Assert.True(attribute.SupportsShouldProcess);
        Assert.Equal(NewTenantBackupCommand.ConnectionStringSet, attribute.DefaultParameterSetName);
        Assert.Equal(ConfirmImpact.Medium, attribute.ConfirmImpact);
    }

    [Theory]
    [MemberData(nameof(CmdletTypes))]
    public void ParameterSetsAreUnambiguous(Type type)
    {
        // PowerShell's own reading of the metadata: it throws on conflicting positions and bad set definitions.
        var name = type.GetCustomAttribute<CmdletAttribute>()!;
        var cmdlet = new CmdletInfo($"{name.VerbName}-{name.NounName}", type);
        var sets = cmdlet.ParameterSets;

        var signatures = sets.Select(set => string.Join(
            ";",
            set.Parameters.Where(p => p.IsMandatory).Select(p => "!" + p.Name)
                .Concat(set.Parameters.Where(p => p.Position >= 0).Select(p => $"{p.Position}:{p.Name}"))
                .Order(StringComparer.Ordinal)))
            .ToList();
        Assert.Equal(signatures.Count, signatures.Distinct(StringComparer.Ordinal).Count());

        // Every set but the default has a mandatory parameter of its own, so giving it selects the set.
        foreach (var set in sets.Where(s => !s.IsDefault && sets.Count > 1))
        {
            var own = set.Parameters
                .Where(p => p.IsMandatory && sets.Where(o => o != set).All(o => o.Parameters.All(q => q.Name != p.Name)));
            Assert.NotEmpty(own);
        }

        // No two parameters of a set share a position.
        foreach (var set in sets)
        {
            var positions = set.Parameters.Where(p => p.Position >= 0).Select(p => p.Position).ToList();
            Assert.Equal(positions.Count, positions.Distinct().Count());
        }
    }

    [Theory]
    [InlineData(typeof(NewTenantBackupCommand))]
    [InlineData(typeof(RestoreTenantBackupCommand))]
    [InlineData(typeof(TestBackupIntegrityCommand))]
    public void DatabaseCmdletsHaveTheConnectionAndServerSets(Type type)
    {
        var attribute = type.GetCustomAttribute<CmdletAttribute>()!;
        var sets = new CmdletInfo($"{attribute.VerbName}-{attribute.NounName}", type).ParameterSets.ToDictionary(s => s.Name);

        Assert.True(type.IsSubclassOf(typeof(DatabaseCmdlet)));
        Assert.Equal(DatabaseCmdlet.ConnectionStringSet, attribute.DefaultParameterSetName);
        Assert.Equal([DatabaseCmdlet.ConnectionStringSet, DatabaseCmdlet.ServerSet], sets.Keys.Order(StringComparer.Ordinal));
        var server = sets[DatabaseCmdlet.ServerSet].Parameters.ToDictionary(p => p.Name);
        Assert.True(server["Server"].IsMandatory);
        Assert.Contains("Port", server.Keys);
        Assert.Contains("Database", server.Keys);
        Assert.Equal(typeof(PSCredential), server["Credential"].ParameterType);
        Assert.DoesNotContain("ConnectionString", server.Keys);
        Assert.DoesNotContain("Server", sets[DatabaseCmdlet.ConnectionStringSet].Parameters.Select(p => p.Name));
    }

    [Fact]
    public void NewTenantBackupTakesTheTenantFromThePipeline()
    {
        var sets = new CmdletInfo("New-TenantBackup", typeof(NewTenantBackupCommand)).ParameterSets.ToDictionary(s => s.Name);
        var tenant = sets[NewTenantBackupCommand.ConnectionStringSet].Parameters.Single(p => p.Name == "Tenant");
        Assert.True(tenant.IsMandatory);
        Assert.True(tenant.ValueFromPipeline);
        Assert.True(tenant.ValueFromPipelineByPropertyName);
        Assert.Equal(0, tenant.Position);
    }

    [Theory]
    [MemberData(nameof(CmdletTypes))]
    public void ParameterSetNamesAreConstFields(Type type)
    {
        var consts = type.GetFields(BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet();
        var used = type.GetProperties()
            .SelectMany(p => p.GetCustomAttributes<ParameterAttribute>())
            .Select(a => a.ParameterSetName)
            .Where(n => n != ParameterAttribute.AllParameterSets);

        Assert.Subset(consts, used.ToHashSet());
    }

    [Fact]
    public void NewTenantBackupOutputBindsByPropertyNameIntoGetTenantBackup()
    {
        var bound = PipelineBindings(typeof(BackupInfo), typeof(GetTenantBackupCommand));

        Assert.Contains("Tenant", bound);
        Assert.Contains("Repository", bound);
        Assert.Contains("Id", bound);
    }

    [Fact]
    public void BackupInfoBindsByPropertyNameIntoNewTenantBackup()
    {
        // Get-TenantBackup -Latest | New-TenantBackup takes a fresh backup of the same tenants into the same repository.
        var bound = PipelineBindings(typeof(BackupInfo), typeof(NewTenantBackupCommand));

        Assert.Equal(["Repository", "Tenant"], bound.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CmdletTypes))]
    public void EveryPublicParameterHasHelpText(Type type)
    {
        var documented = System.Xml.Linq.XDocument.Load(Path.ChangeExtension(CmdletAssembly.Location, ".xml"))
            .Descendants("member")
            .Select(m => (string)m.Attribute("name")!)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var property in type.GetProperties().Where(p => p.GetCustomAttributes<ParameterAttribute>().Any()))
        {
            Assert.Contains($"P:{property.DeclaringType!.FullName}.{property.Name}", documented);
        }
    }

    [Fact]
    public void RestoreTenantBackupIsAHighImpactChangeThatOutputsTheResultOrThePlan()
    {
        var attribute = typeof(RestoreTenantBackupCommand).GetCustomAttribute<CmdletAttribute>()!;
        var outputTypes = typeof(RestoreTenantBackupCommand).GetCustomAttributes<OutputTypeAttribute>()
            .SelectMany(a => a.Type)
            .Select(t => t.Type);

        Assert.Equal(VerbsData.Restore, attribute.VerbName);
        Assert.True(attribute.SupportsShouldProcess);
        Assert.Equal(ConfirmImpact.High, attribute.ConfirmImpact);
        Assert.Equal([typeof(RestoreResult), typeof(RestorePlan)], outputTypes);
    }

    [Fact]
    public void RestoreTenantBackupTakesBackupsFromThePipelineAndNamesThemByIdOrPath()
    {
        var parameters = new CmdletInfo("Restore-TenantBackup", typeof(RestoreTenantBackupCommand)).Parameters;

        var inputObject = parameters["InputObject"];
        Assert.Equal(typeof(BackupInfo[]), inputObject.ParameterType);
        Assert.All(inputObject.ParameterSets.Values, set => Assert.True(set.ValueFromPipeline));

        // No source parameter is mandatory or tied to a set: the command checks that exactly one names the backup.
        foreach (var name in (string[])["InputObject", "Id", "Path"])
        {
            Assert.All(parameters[name].ParameterSets.Values, set => Assert.False(set.IsMandatory));
            Assert.Equal([ParameterAttribute.AllParameterSets], parameters[name].ParameterSets.Keys);
        }

        Assert.Equal(0, parameters["Id"].ParameterSets[ParameterAttribute.AllParameterSets].Position);
        Assert.Contains("FullName", parameters["Path"].Aliases);
        Assert.Equal(typeof(TimeSpan), parameters["LockTimeout"].ParameterType);
        Assert.Equal(typeof(RestoreMode), parameters["Mode"].ParameterType);
        Assert.Equal(typeof(KeyCollisionAction), parameters["KeyCollision"].ParameterType);
        Assert.All(
            (string[])["NoPreBackup", "DisableTriggers", "SkipFiles", "Force"],
            name => Assert.Equal(typeof(SwitchParameter), parameters[name].ParameterType));
    }

    [Fact]
    public void BackupInfoBindsByPropertyNameIntoRestoreTenantBackup()
    {
        // Get-TenantBackup | Restore-TenantBackup and New-TenantBackup | Restore-TenantBackup; also the deserialized
        // objects of Import-Clixml or remoting, which bind by property name only.
        var bound = PipelineBindings(typeof(BackupInfo), typeof(RestoreTenantBackupCommand));

        Assert.Equal(["Id", "Path", "Repository"], bound.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ArchiveFilesBindByFullNameIntoRestoreTenantBackup()
    {
        // Get-ChildItem /backups/*.tar.zst | Restore-TenantBackup
        Assert.Equal(["Path"], PipelineBindings(typeof(FileInfo), typeof(RestoreTenantBackupCommand)));
    }

    /// <summary>
    /// The parameters of <paramref name="consumer"/> that a <paramref name="producedType"/> object binds to by property
    /// name: a readable property with the parameter's name (or alias) whose type the parameter accepts.
    /// </summary>
    internal static IReadOnlyList<string> PipelineBindings(Type producedType, Type consumer)
    {
        var properties = producedType.GetProperties().ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        var bound = new List<string>();
        foreach (var parameter in consumer.GetProperties())
        {
            if (!parameter.GetCustomAttributes<ParameterAttribute>().Any(a => a.ValueFromPipelineByPropertyName))
            {
                continue;
            }

            var names = new[] { parameter.Name }.Concat(parameter.GetCustomAttributes<AliasAttribute>().SelectMany(a => a.AliasNames));
            var match = names.Select(n => properties.GetValueOrDefault(n)).FirstOrDefault(p => p is not null);
            if (match is null)
            {
                continue;
            }

            var target = Nullable.GetUnderlyingType(parameter.PropertyType) ?? parameter.PropertyType;
            var accepts = target.IsAssignableFrom(match.PropertyType)
                || (target.IsArray && target.GetElementType()!.IsAssignableFrom(match.PropertyType));
            Assert.True(
                accepts,
                $"{consumer.Name}.{parameter.Name} ({target}) cannot take {producedType.Name}.{match.Name} ({match.PropertyType}).");
            bound.Add(parameter.Name);
        }

        return bound;
    }

    private static bool IsCmdletAttribute(CustomAttributeData data) => data.AttributeType == typeof(CmdletAttribute);
}
