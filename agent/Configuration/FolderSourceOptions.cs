namespace EdgePatchCore.Agent.Configuration;

public sealed class FolderSourceOptions
{
    /// <summary>The drop folder; scored files move to done/ or failed/ inside it.</summary>
    public string Path { get; set; } = "";
    public string? Product { get; set; }
    /// <summary>A file counts as complete once its size and time stamp have not changed for this long.</summary>
    public int SettleMilliseconds { get; set; } = 500;
    public int PollMilliseconds { get; set; } = 200;
}
