using System.Reflection;
using System.Runtime.InteropServices;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// The slice of the system libzstd the archive needs: streaming compression (optionally multi-threaded) and
/// bounded-memory streaming decompression. Nothing is bundled; <see cref="IsAvailable"/> says whether it loaded.
/// </summary>
internal static unsafe partial class ZstdNative
{
    private const string Library = "zstd";

    // ZSTD_compressStream2 and the parameter API are stable from 1.4.0 on.
    private const uint MinimumVersion = 1_04_00;

    /// <summary>What the operator is told to do when libzstd cannot be loaded.</summary>
    internal const string InstallHint = "install libzstd (apt-get install libzstd1 / dnf install libzstd / brew install zstd)";

    private static readonly string[] s_candidates =
    [
        "libzstd.so.1", "libzstd.so", "libzstd.1.dylib", "libzstd.dylib", "libzstd.dll", "zstd.dll",
    ];

    private static readonly Lazy<string?> s_unavailableReason = new(Probe);
    private static int s_resolverSet;

    // Every entry point below needs the resolver, whichever is called first.
    static ZstdNative() => EnsureResolver();

    internal const int CompressionLevelParameter = 100;
    internal const int ChecksumFlagParameter = 201;
    internal const int WorkersParameter = 400;
    internal const int WindowLogMaxParameter = 100;

    /// <summary>The largest window (2^27 = 128 MiB) a frame may ask the decoder for: hostile input cannot make it allocate more.</summary>
    internal const int MaxWindowLog = 27;

    /// <summary>The default level, as the zstd CLI's.</summary>
    internal const int DefaultLevel = 3;

    /// <summary>True when libzstd (1.4.0 or later) could be loaded.</summary>
    internal static bool IsAvailable => s_unavailableReason.Value is null;

    /// <summary>Why libzstd cannot be used, or null when it can.</summary>
    internal static string? UnavailableReason => s_unavailableReason.Value;

    /// <summary>Throws <see cref="ErrorCode.CompressionUnavailable"/> with the install hint unless libzstd loaded.</summary>
    internal static void EnsureAvailable()
    {
        if (UnavailableReason is { } reason)
        {
            throw new TenantBackupException(
                ErrorCode.CompressionUnavailable, $"zstd compression is not available ({reason}); {InstallHint}.", Library);
        }
    }

    /// <summary>Registers the resolver that maps the name <c>zstd</c> to the platform's file names. Idempotent.</summary>
    internal static void EnsureResolver()
    {
        // SetDllImportResolver throws when called twice for an assembly.
        if (Interlocked.Exchange(ref s_resolverSet, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(ZstdNative).Assembly, Resolve);
        }
    }

    internal static bool IsError(nuint code) => ZSTD_isError(code) != 0;

    internal static string ErrorName(nuint code) => Marshal.PtrToStringUTF8(ZSTD_getErrorName(code)) ?? $"zstd error {code}";

    internal static (int Min, int Max) LevelRange => (ZSTD_minCLevel(), ZSTD_maxCLevel());

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!string.Equals(libraryName, Library, StringComparison.Ordinal))
        {
            return IntPtr.Zero;
        }

        foreach (string candidate in s_candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out IntPtr handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    private static string? Probe()
    {
        EnsureResolver();
        try
        {
            uint version = ZSTD_versionNumber();
            return version < MinimumVersion
                ? $"libzstd {FormatVersion(version)} is older than {FormatVersion(MinimumVersion)}"
                : null;
        }
        catch (DllNotFoundException)
        {
            return "libzstd was not found";
        }
        catch (EntryPointNotFoundException ex)
        {
            return $"the loaded libzstd lacks {ex.Message}";
        }
        catch (BadImageFormatException)
        {
            return "the libzstd found is built for another architecture";
        }
    }

    private static string FormatVersion(uint version) => $"{version / 10000}.{version / 100 % 100}.{version % 100}";

    [LibraryImport(Library)]
    private static partial uint ZSTD_versionNumber();

    [LibraryImport(Library)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    private static partial IntPtr ZSTD_getErrorName(nuint code);

    [LibraryImport(Library)]
    private static partial int ZSTD_minCLevel();

    [LibraryImport(Library)]
    private static partial int ZSTD_maxCLevel();

    [LibraryImport(Library, EntryPoint = "ZSTD_DStreamInSize")]
    internal static partial nuint DStreamInSize();

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    internal static partial ZstdCompressContext CreateCCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    internal static partial nuint FreeCCtx(IntPtr cctx);

    [LibraryImport(Library, EntryPoint = "ZSTD_CCtx_setParameter")]
    internal static partial nuint CCtxSetParameter(ZstdCompressContext cctx, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressStream2")]
    internal static partial nuint CompressStream2(
        ZstdCompressContext cctx, ZstdOutBuffer* output, ZstdInBuffer* input, ZstdEndDirective endOp);

    [LibraryImport(Library, EntryPoint = "ZSTD_createDCtx")]
    internal static partial ZstdDecompressContext CreateDCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDCtx")]
    internal static partial nuint FreeDCtx(IntPtr dctx);

    [LibraryImport(Library, EntryPoint = "ZSTD_DCtx_setParameter")]
    internal static partial nuint DCtxSetParameter(ZstdDecompressContext dctx, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    internal static partial nuint DecompressStream(ZstdDecompressContext dctx, ZstdOutBuffer* output, ZstdInBuffer* input);
}

/// <summary><c>ZSTD_EndDirective</c>.</summary>
internal enum ZstdEndDirective
{
    Continue = 0,
    Flush = 1,
    End = 2,
}

/// <summary><c>ZSTD_inBuffer</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZstdInBuffer
{
    public byte* Source;
    public nuint Size;
    public nuint Position;
}

/// <summary><c>ZSTD_outBuffer</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZstdOutBuffer
{
    public byte* Destination;
    public nuint Size;
    public nuint Position;
}

/// <summary>An owned <c>ZSTD_CCtx*</c>.</summary>
internal sealed class ZstdCompressContext : SafeHandle
{
    /// <summary>Used by the interop marshaller.</summary>
    public ZstdCompressContext()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeCCtx(handle);
        return true;
    }
}

/// <summary>An owned <c>ZSTD_DCtx*</c>.</summary>
internal sealed class ZstdDecompressContext : SafeHandle
{
    /// <summary>Used by the interop marshaller.</summary>
    public ZstdDecompressContext()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeDCtx(handle);
        return true;
    }
}
