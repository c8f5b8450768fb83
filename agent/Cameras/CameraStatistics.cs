namespace EdgePatchCore.Agent.Cameras;

/// <summary>The stream's own counts since the camera was opened: complete buffers, failed (incomplete) ones, and underruns
/// (no free buffer).</summary>
public readonly record struct CameraStatistics(ulong Completed, ulong Failures, ulong Underruns);
