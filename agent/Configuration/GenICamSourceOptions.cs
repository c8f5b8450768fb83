namespace EdgePatchCore.Agent.Configuration;

/// <summary>Agent:Sources:GenICam: one GigE Vision camera, opened by address (docs/agent.md, "GenICam cameras").</summary>
public sealed class GenICamSourceOptions
{
    /// <summary>The camera's IPv4 address. Cameras are never discovered: discovery broadcasts on every interface.</summary>
    public string Address { get; set; } = "";
    /// <summary>The host's network interface that reaches the camera (eth1); empty: the interface whose subnet holds the address.</summary>
    public string Interface { get; set; } = "";
    public string? Product { get; set; }
    /// <summary>Mono8, RGB8 or BayerRG8/GR8/GB8/BG8; empty: the camera's own (which must be one of these).</summary>
    public string? PixelFormat { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public int OffsetX { get; set; }
    public int OffsetY { get; set; }
    public double? ExposureMicroseconds { get; set; }
    public double? Gain { get; set; }
    /// <summary>Frames a second while free-running.</summary>
    public double? FrameRate { get; set; }
    /// <summary>Empty: free-running; Software: one frame per trigger message; Line0, Line1, ...: one frame per pulse on the camera's input
    /// (the PLC's wire), each answered as a part.</summary>
    public string? TriggerSource { get; set; }
    /// <summary>RisingEdge, FallingEdge, ... for a hardware line.</summary>
    public string? TriggerActivation { get; set; }
    /// <summary>Frame buffers the stream reuses.</summary>
    public int Buffers { get; set; } = 8;
    /// <summary>Longest wait between reconnection attempts (the wait doubles from 0.5 s up to this).</summary>
    public double ReconnectMaxSeconds { get; set; } = 10;
}
