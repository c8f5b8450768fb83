using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgePatchCore.FileSystem;

/// <summary>
/// Reads files that come from outside (camera uploads, training folders, keys) without trusting what the
/// path points at: only regular files are read (a symbolic link, a FIFO, a socket or a device is refused
/// by name, so a FIFO without a writer cannot hang a reader), the file is opened non-blocking and without
/// following links and its type is checked again on the open handle (the path cannot be swapped in
/// between), and at most maxBytes + 1 bytes are ever read, whatever the size the file system claims.
/// </summary>
public static partial class RegularFile
{
    /// <summary>What a path is, without following a final symbolic link.</summary>
    public enum Kind { Missing, Regular, Directory, SymbolicLink, Fifo, Socket, CharacterDevice, BlockDevice, Other }

    /// <summary>The kind of <paramref name="path"/> and its size in bytes (0 unless regular).</summary>
    public static (Kind Kind, long Size) Inspect(string path)
    {
        if (OperatingSystem.IsLinux() && StatxAvailable)
        {
            var info = Stat(AtFdCwd, path, AtSymlinkNoFollow);
            return info is { } s ? (KindOf(s.Mode), s.Size) : (Kind.Missing, 0);
        }
        var fi = new FileInfo(path);
        if (fi.LinkTarget is not null) return (Kind.SymbolicLink, 0);
        if (fi.Exists) return (Kind.Regular, fi.Length);
        return Directory.Exists(path) ? (Kind.Directory, 0) : (Kind.Missing, 0);
    }

    /// <summary>Whether <paramref name="path"/> is a regular file (not a link, FIFO, device or directory).</summary>
    public static bool IsRegular(string path) => Inspect(path).Kind == Kind.Regular;

    /// <summary>
    /// The bytes of a regular file of at most <paramref name="maxBytes"/> bytes. Throws
    /// <see cref="FileRefusedException"/> for anything else (missing, not regular, too large) and
    /// <see cref="IOException"/> when reading fails.
    /// </summary>
    public static byte[] Read(string path, long maxBytes)
    {
        var (kind, size) = Inspect(path);
        if (kind == Kind.Missing) throw new FileRefusedException($"{path}: no such file", new FileNotFoundException(path));
        if (kind != Kind.Regular) throw new FileRefusedException($"{path}: {Describe(kind)}, not a regular file");
        if (size > maxBytes) throw new FileRefusedException($"{path}: file is {size} bytes, over the limit of {maxBytes}");
        if (size > Array.MaxLength) throw new FileRefusedException($"{path}: file is {size} bytes, too large to read");
        using var handle = OpenForReading(path);
        var buffer = new byte[size];
        int total = 0;
        while (total < buffer.Length)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (read == 0) return buffer[..total]; // shrank while being read
            total += read;
        }
        // The file may have grown since it was inspected: look for one more byte rather than trusting the size.
        Span<byte> more = stackalloc byte[1];
        if (RandomAccess.Read(handle, more, total) == 0) return buffer;
        if ((long)total + 1 > maxBytes) throw new FileRefusedException($"{path}: file is more than {maxBytes} bytes, over the limit of {maxBytes}");
        using var grown = new MemoryStream();
        grown.Write(buffer);
        grown.WriteByte(more[0]);
        var chunk = new byte[1 << 16];
        while (RandomAccess.Read(handle, chunk, grown.Length) is int n && n > 0)
        {
            if (grown.Length
                + n > maxBytes) throw new FileRefusedException($"{path}: file is more than {maxBytes} bytes, over the limit of {maxBytes}");
            grown.Write(chunk, 0, n);
        }
        return grown.ToArray();
    }

    public static string Describe(Kind kind) => kind switch
    {
        Kind.Regular => "a regular file",
        Kind.Directory => "a directory",
        Kind.SymbolicLink => "a symbolic link",
        Kind.Fifo => "a FIFO (named pipe)",
        Kind.Socket => "a socket",
        Kind.CharacterDevice => "a character device",
        Kind.BlockDevice => "a block device",
        Kind.Missing => "missing",
        _ => "a special file",
    };

    private static SafeFileHandle OpenForReading(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        int flags = ORdOnly | ONonBlock | OCloExec | NoFollowFlag;
        int fd = open(path, flags);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                2 => new FileRefusedException($"{path}: no such file", new FileNotFoundException(path)),
                40 => new FileRefusedException($"{path}: a symbolic link, not a regular file"), // ELOOP from O_NOFOLLOW
                13 or 1 => new UnauthorizedAccessException($"{path}: permission denied"),
                _ => new IOException($"{path}: cannot open ({Marshal.GetPInvokeErrorMessage(errno)})"),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (StatxAvailable && Stat(fd, "", AtEmptyPath) is { } s && KindOf(s.Mode) is var kind && kind != Kind.Regular)
        {
            handle.Dispose();
            throw new FileRefusedException($"{path}: {Describe(kind)}, not a regular file");
        }
        return handle;
    }

    // statx(2) has one layout on every architecture (unlike struct stat), so it is bound directly.
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxSize = 0x200;
    private const int ORdOnly = 0, ONonBlock = 0x800, OCloExec = 0x80000;
    private const int StatxModeOffset = 28, StatxSizeOffset = 40, StatxBufferSize = 256;

    /// <summary>O_NOFOLLOW differs between architectures; 0 (type checked on the handle instead) where it is not known.</summary>
    private static readonly int NoFollowFlag = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x20000,
        Architecture.Arm64 or Architecture.Arm => 0x8000,
        _ => 0,
    };

    private static readonly bool StatxAvailable = OperatingSystem.IsLinux() && Probe();

    private static bool Probe()
    {
        try { return Stat(AtFdCwd, "/", 0) is not null; }
        catch (EntryPointNotFoundException) { return false; } // glibc before 2.28
        catch (DllNotFoundException) { return false; }
    }

    private static unsafe (uint Mode, long Size)? Stat(int dirFd, string path, int flags)
    {
        byte* buffer = stackalloc byte[StatxBufferSize];
        if (statx(dirFd, path, flags, StatxType | StatxSize, buffer) != 0) return null;
        return (*(ushort*)(buffer + StatxModeOffset), *(long*)(buffer + StatxSizeOffset));
    }

    private static Kind KindOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => Kind.Regular,
        0x4000 => Kind.Directory,
        0xA000 => Kind.SymbolicLink,
        0x1000 => Kind.Fifo,
        0xC000 => Kind.Socket,
        0x2000 => Kind.CharacterDevice,
        0x6000 => Kind.BlockDevice,
        _ => Kind.Other,
    };

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);
}
