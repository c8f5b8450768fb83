namespace EdgePatchCore.Agent.Configuration;

public sealed class MjpegSourceOptions
{
    /// <summary>A command whose standard output is an MJPEG stream (ffmpeg, gst-launch-1.0); or "-" for our own stdin.</summary>
    public string Command { get; set; } = "";
    public string Arguments { get; set; } = "";
    public string? Product { get; set; }
    /// <summary>Wait before restarting a command that exited.</summary>
    public int RestartSeconds { get; set; } = 5;
}
