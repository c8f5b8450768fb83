namespace EdgePatchCore.Agent.Configuration;

/// <summary>Agent:Sources:GenICam: one GigE Vision camera, opened by address (docs/agent.md, "GenICam cameras").</summary>
public sealed class GenICamSourceOptions
{
    /// <summary>The camera's IPv4 address (nothing is broadcast). Or <see cref="Serial"/> or <see cref="Name"/> with
    /// <see cref="Interface"/>.</summary>
    public string Address { get; set; } = "";
    /// <summary>The camera's serial number: found by GigE Vision discovery on <see cref="Interface"/> only (each time it is opened).</summary>
    public string? Serial { get; set; }
    /// <summary>The camera's user-defined name (DeviceUserID), found the same way.</summary>
    public string? Name { get; set; }
    /// <summary>The host's network interface that reaches the camera (eth1); with an address, empty means the interface whose subnet holds
    /// it; required to find a camera by serial number or name.</summary>
    public string Interface { get; set; } = "";

    /// <summary>How the logs and the status name this camera: its address, or its serial number or name and the interface.</summary>
    public string Describe() => !string.IsNullOrWhiteSpace(Address) ? Address
        : !string.IsNullOrWhiteSpace(Serial) ? $"serial {Serial} on {Interface}" : $"'{Name}' on {Interface}";
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
