using System.Runtime.InteropServices;

namespace TenantBackup.Engine.Archive;

/// <summary>
/// What a path is without following links. .NET reports FIFOs, sockets and devices on Unix as ordinary files (and
/// opening a FIFO blocks), so on Unix this asks lstat through the runtime's own System.Native shim, whose status
/// layout is the same on every Unix.
/// </summary>
internal static partial class FileKinds
{
    private const int TypeMask = 0xF000;
    private const int RegularType = 0x8000;
    private const int DirectoryType = 0x4000;

    // The shim's FileStatus is about 120 bytes; the slack keeps a future, longer one from overrunning.
    private const int StatusBufferSize = 512;
    private const int ModeOffset = 4;

    /// <summary>Regular file, directory, or what else <paramref name="path"/> is (e.g. "a symbolic link").</summary>
    public static (bool IsRegular, bool IsDirectory, string Description) Of(string path)
    {
        FileAttributes attributes = File.GetAttributes(path);
        if ((attributes & FileAttributes.ReparsePoint) != 0)
        {
            return (false, false, "a symbolic link or reparse point");
        }

        if (OperatingSystem.IsWindows())
        {
            return (attributes & FileAttributes.Directory) != 0 ? (false, true, "a directory")
                : (attributes & FileAttributes.Device) != 0 ? (false, false, "a device")
                : (true, false, "a regular file");
        }

        return UnixType(path) switch
        {
            RegularType => (true, false, "a regular file"),
            DirectoryType => (false, true, "a directory"),
            0x1000 => (false, false, "a FIFO"),
            0x2000 => (false, false, "a character device"),
            0x6000 => (false, false, "a block device"),
            0xA000 => (false, false, "a symbolic link"),
            0xC000 => (false, false, "a socket"),
            int other => (false, false, $"a special file (type 0x{other:X})"),
        };
    }

    private static unsafe int UnixType(string path)
    {
        byte* status = stackalloc byte[StatusBufferSize];
        if (LStat(path, status) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot inspect '{path}' (lstat errno {errno}).");
        }

        return *(int*)(status + ModeOffset) & TypeMask;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int LStat(string path, byte* status);
}
