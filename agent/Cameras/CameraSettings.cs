namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// What the agent sets on a camera each time it opens it (null: leave the camera's own value). Names follow the GenICam SFNC;
/// Aravis's arv_camera_* helpers map them where cameras differ.
/// </summary>
public sealed record CameraSettings
{
    /// <summary>Mono8, RGB8 or BayerRG8/GR8/GB8/BG8.</summary>
    public string? PixelFormat { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int OffsetX { get; init; }
    public int OffsetY { get; init; }
    public double? ExposureMicroseconds { get; init; }
    public double? Gain { get; init; }
    /// <summary>Frames a second while free-running (no trigger).</summary>
    public double? FrameRate { get; init; }
    /// <summary>null: free-running; "Software" (TriggerSoftware, fired by the agent); a line name ("Line0"): the PLC's wire.</summary>
    public string? TriggerSource { get; init; }
    /// <summary>RisingEdge, FallingEdge, ... (hardware lines only; null: the camera's default).</summary>
    public string? TriggerActivation { get; init; }
    /// <summary>Frame buffers handed to the stream once, reused for every frame.</summary>
    public int Buffers { get; init; } = 8;
}
