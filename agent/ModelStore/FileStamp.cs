namespace EdgePatchCore.Agent.ModelStore;

/// <summary>Size and time stamp of a file: how the watcher tells that an artifact file changed.</summary>
public readonly record struct FileStamp(long Length, DateTime WrittenUtc)
{
    public static FileStamp? Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : null;
    }
}
