namespace EdgePatchCore.Agent.Teach;

/// <summary>What <see cref="FrameStore.Add"/> did with a frame.</summary>
public enum KeepResult
{
    Kept,
    /// <summary>Keeping is off (Agent:Teach:KeepFrames 0).</summary>
    Off,
    /// <summary>A frame with this id is kept already: first come; that id is now ambiguous.</summary>
    RepeatedId,
    /// <summary>The disk refused (logged).</summary>
    NotWritten,
}
