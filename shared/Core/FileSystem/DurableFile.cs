using System.Runtime.InteropServices;

namespace EdgePatchCore.FileSystem;

/// <summary>
/// Writes that survive a power cut: the data goes to a temporary name in the same folder, is flushed to
/// the device, renamed over the target, and then the folder itself is flushed, because a rename lives in
/// the folder's entries and is not on disk until the folder is (ext4 with data=ordered can otherwise lose
/// an acknowledged file after a crash).
/// </summary>
public static partial class DurableFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically and durably (when <paramref name="sync"/>).</summary>
    public static void Write(string path, ReadOnlyMemory<byte> bytes, bool sync = true) =>
        Replace(path, stream => stream.Write(bytes.Span), sync);

    /// <summary>Copies <paramref name="source"/> over <paramref name="target"/> atomically and durably.</summary>
    public static void Copy(string source, string target) => Replace(target, output =>
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read);
        input.CopyTo(output);
    }, sync: true);

    /// <summary>Writes a temporary file beside <paramref name="path"/>, flushes it, renames it over the target and flushes the folder.</summary>
    private static void Replace(string path, Action<Stream> write, bool sync)
    {
        string full = Path.GetFullPath(path);
        string temp = TemporaryNameFor(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
            {
                write(stream);
                stream.Flush(flushToDisk: sync);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        if (sync) FlushDirectory(Path.GetDirectoryName(full)!);
    }

    /// <summary>Renames within one file system and flushes the folder(s) involved.</summary>
    public static void Move(string source, string target)
    {
        File.Move(source, target, overwrite: true);
        string from = Path.GetDirectoryName(Path.GetFullPath(source))!, to = Path.GetDirectoryName(Path.GetFullPath(target))!;
        FlushDirectory(to);
        if (from != to) FlushDirectory(from);
    }

    /// <summary>fsync(2) on a folder, so that renames and deletions in it are on disk. A no-op off Linux.</summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"cannot open folder {directory} to flush it " +
            $"({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
        try
        {
            if (fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != 22) // EINVAL: the file system does not sync folders (some FUSE mounts); nothing more can be done
                    throw new IOException($"cannot flush folder {directory} ({Marshal.GetPInvokeErrorMessage(errno)})");
            }
        }
        finally
        {
            close(fd);
        }
    }

    private static string TemporaryNameFor(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
