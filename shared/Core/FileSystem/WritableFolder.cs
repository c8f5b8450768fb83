using System.Runtime.InteropServices;

namespace EdgePatchCore.FileSystem;

/// <summary>
/// Whether a folder could be written, asked without writing anything (`agent check-config` must leave the
/// machine as it found it): the kernel's own access(2) check on the directory, or, where it does not exist yet,
/// on the nearest folder above it that does (the writer creates the rest).
/// </summary>
public static partial class WritableFolder
{
    private const int WriteAndSearch = 2 | 1; // W_OK | X_OK

    /// <summary>Null when <paramref name="directory"/> can be written (or created); else why not.</summary>
    public static string? Problem(string directory)
    {
        string? folder = Path.GetFullPath(directory);
        while (folder is not null && !Directory.Exists(folder))
        {
            if (File.Exists(folder)) return $"{folder} is a file, not a folder";
            folder = Path.GetDirectoryName(folder);
        }
        if (folder is null) return "no folder on its path exists";
        if (Access(folder, WriteAndSearch) == 0) return null;
        return $"{folder} is not writable ({Marshal.GetLastPInvokeErrorMessage()})";
    }

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Access(string path, int mode);
}
