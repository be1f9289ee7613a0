using System.Reflection;
using System.Runtime.Loader;
using TenantBackup.Engine;
using TenantBackup.PowerShell;
using TenantBackup.PowerShell.Internal;
using Xunit;

namespace TenantBackup.Tests.FrontEnds;

/// <summary>
/// Dependency isolation: pwsh loads only the cmdlet assembly, which needs nothing the host lacks but the engine; the engine
/// and its dependencies come from the module's dependencies/ folder into the module's own load context, whatever copies the
/// session already has.
/// </summary>
public class ModuleLoadContextTests
{
    private const string Engine = "TenantBackup.Engine";

    /// <summary>What any pwsh 7.4 or later has in its default load context: the framework and PowerShell itself.</summary>
    internal static bool ProvidedByPwsh(string name)
        => name is "netstandard" or "mscorlib" or "System.Management.Automation"
            || name.StartsWith("System.", StringComparison.Ordinal)
            || name.StartsWith("Microsoft.PowerShell.", StringComparison.Ordinal);

    [Fact]
    public void TheCmdletAssemblyReferencesOnlyWhatPwshProvidesAndTheEngine()
    {
        var references = CmdletMetadataTests.CmdletAssembly.GetReferencedAssemblies();
        var names = references.Select(a => a.Name!).ToList();

        Assert.Contains(Engine, names);
        Assert.Contains("System.Management.Automation", names);
        Assert.All(names.Where(name => name != Engine), name => Assert.True(ProvidedByPwsh(name), name));

        // System.* must be the framework's own, at a version .NET 8 (PowerShell 7.4) has: not a package the module would
        // have to bring, as it does for Npgsql's System.Diagnostics.DiagnosticSource 9.
        var runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        Assert.All(
            references.Where(a => a.Name!.StartsWith("System.", StringComparison.Ordinal) && a.Name != "System.Management.Automation"),
            a =>
            {
                Assert.True(File.Exists(Path.Combine(runtime, a.Name + ".dll")), $"{a.Name} is not part of the .NET runtime.");
                Assert.True(a.Version!.Major <= 8, $"{a.FullName} is newer than .NET 8's.");
            });
    }

    [Fact]
    public void NoPublicEngineTypeShowsNpgsqlOrMicrosoftExtensionsTypes()
    {
        // The cmdlets see the engine's public API from the host's side: a type of a private dependency in it would be a
        // different type on each side of the load context.
        var leaks = typeof(BackupInfo).Assembly.GetExportedTypes()
            .SelectMany(type => SignatureTypes(type).Select(used => (type, used)))
            .Where(pair => !IsShared(pair.used.Assembly.GetName().Name!))
            .Select(pair => $"{pair.type.FullName} uses {pair.used.FullName}")
            .Distinct(StringComparer.Ordinal)
            .ToList();

        Assert.Empty(leaks);
    }

    [Fact]
    public void TheBuildOutputKeepsTheEngineAndItsDependenciesInTheDependenciesFolder()
    {
        var dependencies = Path.Combine(TestPaths.PowerShellBin, EngineLoadContext.DependencyFolderName);

        Assert.True(File.Exists(Path.Combine(dependencies, Engine + ".dll")));
        Assert.True(File.Exists(Path.Combine(dependencies, "Npgsql.dll")));
        Assert.False(File.Exists(Path.Combine(TestPaths.PowerShellBin, Engine + ".dll")));
        Assert.False(File.Exists(Path.Combine(TestPaths.PowerShellBin, "Npgsql.dll")));
    }

    [Fact]
    public void TheEngineAndNpgsqlLoadFromTheDependenciesFolderIntoTheModulesOwnContextNotFromTheHostsCopies()
    {
        using var outRoot = new TempFolder();
        var moduleDir = ModuleLayoutTests.LayOutModule(outRoot.Path);
        var dependencies = Path.Combine(moduleDir, EngineLoadContext.DependencyFolderName);
        var host = new HostLoadContext(dependencies);

        // Another module got there first: a different Npgsql file and a newer Microsoft.Extensions.Logging.Abstractions.
        var hostNpgsql = host.LoadFromAssemblyPath(Path.Combine(AppContext.BaseDirectory, "Npgsql.dll"));
        var hostLogging = host.LoadFromAssemblyPath(
            Path.Combine(AppContext.BaseDirectory, "Microsoft.Extensions.Logging.Abstractions.dll"));
        Assert.Equal(10, hostLogging.GetName().Version!.Major);

        // Import-Module: the cmdlet assembly into the host, then the initializer.
        var cmdlets = host.LoadFromAssemblyPath(Path.Combine(moduleDir, "TenantBackup.PowerShell.dll"));
        var loadContextType = cmdlets.GetType(typeof(EngineLoadContext).FullName!, throwOnError: true)!;
        host.Resolve = loadContextType.GetMethod(nameof(EngineLoadContext.ResolveEngine))!
            .CreateDelegate<Func<AssemblyLoadContext, AssemblyName, Assembly?>>();
        var initializer = cmdlets.GetType("TenantBackup.PowerShell.ModuleInitializer", throwOnError: true)!;
        Assert.Contains(initializer.GetInterfaces(), i => i.FullName == "System.Management.Automation.IModuleAssemblyInitializer");

        // A cmdlet building its engine request binds the engine.
        var engine = cmdlets.GetType("TenantBackup.PowerShell.Commands.NewTenantBackupCommand", throwOnError: true)!
            .GetMethod("BuildRequest", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!
            .ReturnType.Assembly;
        var context = AssemblyLoadContext.GetLoadContext(engine)!;
        Assert.Equal("TenantBackup", context.Name);
        Assert.NotSame(host, context);
        Assert.Equal(Path.Combine(dependencies, Engine + ".dll"), engine.Location);

        // Engine code that needs Npgsql (the connection string is parsed by its builder) and the logging abstractions.
        var build = engine.GetType(typeof(ConnectionStrings).FullName!, throwOnError: true)!
            .GetMethod(
                nameof(ConnectionStrings.Build),
                [typeof(string), typeof(string), typeof(int?), typeof(string), typeof(string), typeof(string)])!;
        var built = (string)build.Invoke(null, ["Host=db1;Port=5432;Database=app;Username=u", null, null, null, null, null])!;
        Assert.Contains("db1", built, StringComparison.Ordinal);
        Activator.CreateInstance(engine.GetType("TenantBackup.Engine.Backup.BackupEngine", throwOnError: true)!, [null]);

        var npgsql = Assert.Single(context.Assemblies, a => a.GetName().Name == "Npgsql");
        Assert.Equal(Path.Combine(dependencies, "Npgsql.dll"), npgsql.Location);
        Assert.NotSame(hostNpgsql, npgsql);
        var logging = Assert.Single(context.Assemblies, a => a.GetName().Name == "Microsoft.Extensions.Logging.Abstractions");
        Assert.Equal(Path.Combine(dependencies, "Microsoft.Extensions.Logging.Abstractions.dll"), logging.Location);
        Assert.Equal(8, logging.GetName().Version!.Major);

        // A framework assembly the module brings a copy of (Npgsql needs a newer DiagnosticSource than .NET 8 has) is the module's.
        var diagnostics = context.LoadFromAssemblyName(new AssemblyName("System.Diagnostics.DiagnosticSource"));
        Assert.Equal(Path.Combine(dependencies, "System.Diagnostics.DiagnosticSource.dll"), diagnostics.Location);

        // Nothing private went into the host, and the host's other requests are never answered with the module's copies.
        Assert.DoesNotContain(host.Assemblies, a => a.GetName().Name == Engine);
        Assert.Null(host.Resolve(host, new AssemblyName("Npgsql")));
        Assert.Same(engine, host.Resolve(host, new AssemblyName(Engine)));
    }

    [Fact]
    public void ImportingTwiceLeavesOneHandlerAndRemovingTheModuleTakesItAway()
    {
        var host = new HostLoadContext();
        var calls = 0;
        host.Resolving += (_, _) =>
        {
            calls++;
            return null;
        };

        EngineLoadContext.Attach(host);
        EngineLoadContext.Attach(host);
        Assert.Equal(1, ResolvingHandlers(host).Count(d => d.Method.Name == nameof(EngineLoadContext.ResolveEngine)));

        EngineLoadContext.Detach(host);
        Assert.DoesNotContain(ResolvingHandlers(host), d => d.Method.Name == nameof(EngineLoadContext.ResolveEngine));
        Assert.Equal(0, calls);
    }

    [Fact]
    public void ImportNamesTheEngineTypesForPowerShellTypeLiteralsAndTheLastRemoveTakesTheNamesAway()
    {
        // PowerShell looks for [TenantBackup.Engine.RestoreMode] in the default context only, and the engine is not there.
        // The stand-in host has its own System.Management.Automation, so its accelerator table is not this process's.
        using var outRoot = new TempFolder();
        var moduleDir = ModuleLayoutTests.LayOutModule(outRoot.Path);
        var host = new HostLoadContext(Path.Combine(moduleDir, EngineLoadContext.DependencyFolderName));
        var cmdlets = host.LoadFromAssemblyPath(Path.Combine(moduleDir, "TenantBackup.PowerShell.dll"));
        host.Resolve = cmdlets.GetType(typeof(EngineLoadContext).FullName!, throwOnError: true)!
            .GetMethod(nameof(EngineLoadContext.ResolveEngine))!
            .CreateDelegate<Func<AssemblyLoadContext, AssemblyName, Assembly?>>();
        var accelerators = host.LoadFromAssemblyName(new AssemblyName("System.Management.Automation"))
            .GetType("System.Management.Automation.TypeAccelerators", throwOnError: true)!;
        Assert.NotSame(typeof(System.Management.Automation.PSObject).Assembly, accelerators.Assembly);
        var initializer = Activator.CreateInstance(cmdlets.GetType("TenantBackup.PowerShell.ModuleInitializer", throwOnError: true)!)!;

        var import = initializer.GetType().GetMethod(nameof(ModuleInitializer.OnImport))!;
        var remove = initializer.GetType().GetMethod(nameof(ModuleInitializer.OnRemove))!;

        // Two runspaces import the module; the first to remove it must leave the other's type names in place.
        import.Invoke(initializer, null);
        import.Invoke(initializer, null);
        try
        {
            var restoreMode = Accelerators(accelerators)["TenantBackup.Engine.RestoreMode"];
            Assert.Equal("TenantBackup", AssemblyLoadContext.GetLoadContext(restoreMode.Assembly)!.Name);
            Assert.Contains("TenantBackup.Engine.BackupInfo", Accelerators(accelerators).Keys);

            remove.Invoke(initializer, [null]);
            Assert.Contains("TenantBackup.Engine.RestoreMode", Accelerators(accelerators).Keys);
        }
        finally
        {
            remove.Invoke(initializer, [null]);
        }

        Assert.DoesNotContain("TenantBackup.Engine.RestoreMode", Accelerators(accelerators).Keys);
        Assert.Contains("string", Accelerators(accelerators).Keys);
    }

    [Fact]
    public void AnEngineInTheDefaultContextNeedsNoTypeAccelerators()
    {
        // As in this test process: PowerShell finds the types itself, and its table is left alone.
        EngineTypeNames.Register(typeof(BackupInfo).Assembly);

        Assert.DoesNotContain("TenantBackup.Engine.RestoreMode", EngineTypeNames.Registered()!.Keys);
    }

    private static IReadOnlyDictionary<string, Type> Accelerators(Type typeAccelerators)
        => (IReadOnlyDictionary<string, Type>)typeAccelerators.GetProperty("Get")!.GetValue(null)!;

    private static Delegate[] ResolvingHandlers(AssemblyLoadContext context)
    {
        // The event's own field: the only way to see which handlers a load context has.
        var field = typeof(AssemblyLoadContext).GetField("_resolving", BindingFlags.Instance | BindingFlags.NonPublic)!;
        return (field.GetValue(context) as Delegate)?.GetInvocationList() ?? [];
    }

    private static bool IsShared(string assemblyName) => ProvidedByPwsh(assemblyName) || assemblyName == Engine;

    private static IEnumerable<Type> SignatureTypes(Type type)
    {
        const BindingFlags Visible = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var used = new List<Type>();
        if (type.BaseType is { } baseType)
        {
            used.Add(baseType);
        }

        used.AddRange(type.GetInterfaces());
        foreach (var member in type.GetMembers(Visible))
        {
            switch (member)
            {
                case MethodBase method:
                    used.AddRange(method.GetParameters().Select(p => p.ParameterType));
                    if (method is MethodInfo { ReturnType: var returnType })
                    {
                        used.Add(returnType);
                    }

                    break;
                case PropertyInfo property:
                    used.Add(property.PropertyType);
                    break;
                case FieldInfo field:
                    used.Add(field.FieldType);
                    break;
                case EventInfo e:
                    used.Add(e.EventHandlerType!);
                    break;
            }
        }

        return used.SelectMany(Flatten);
    }

    private static IEnumerable<Type> Flatten(Type type)
    {
        if (type.HasElementType)
        {
            return Flatten(type.GetElementType()!);
        }

        return type.IsGenericType
            ? type.GetGenericArguments().Where(a => !a.IsGenericParameter).SelectMany(Flatten).Prepend(type.GetGenericTypeDefinition())
            : [type];
    }

    /// <summary>
    /// Stands in for pwsh's default load context: it has everything (from the test's own default context) but what the
    /// module brings in its dependencies folder, which is what the module's handler makes of it, as when pwsh's probing
    /// finds nothing. It has a System.Management.Automation of its own, so PowerShell's statics are its own too.
    /// </summary>
    private sealed class HostLoadContext(string? moduleDependencies = null) : AssemblyLoadContext("pwsh stand-in")
    {
        public Func<AssemblyLoadContext, AssemblyName, Assembly?>? Resolve { get; set; }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name == "System.Management.Automation")
            {
                return LoadFromAssemblyPath(typeof(System.Management.Automation.PSObject).Assembly.Location);
            }

            if (moduleDependencies is null || !File.Exists(Path.Combine(moduleDependencies, assemblyName.Name + ".dll")))
            {
                return null;
            }

            // Returning null would fall back to the test's default context, which has the engine: not what pwsh has.
            return Resolve?.Invoke(this, assemblyName)
                ?? throw new FileNotFoundException($"pwsh would not find {assemblyName}.");
        }
    }
}
