using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>A camera source's state and counts for the status topic, the live page, /healthz and /metrics (edgepatchcore_camera_*).</summary>
public sealed class CameraCounters(string address) : IDeviceStatus
{
    private long _frames, _incomplete, _reconnects, _unclaimed;
    private volatile string? _problem = "not connected yet";

    public long Frames => Interlocked.Read(ref _frames);
    /// <summary>Buffers that came incomplete (lost packets): answered as errors, never scored.</summary>
    public long Incomplete => Interlocked.Read(ref _incomplete);
    public long Reconnects => Interlocked.Read(ref _reconnects);
    /// <summary>Frames of a software-triggered camera that no open trigger asked for (a stale trigger after a restart): dropped.</summary>
    public long Unclaimed => Interlocked.Read(ref _unclaimed);
    public bool Connected => _problem is null;
    /// <summary>Why the camera is not delivering (null while it is).</summary>
    public string? Problem => _problem;

    public void Frame(bool incomplete)
    {
        Interlocked.Increment(ref _frames);
        if (incomplete) Interlocked.Increment(ref _incomplete);
    }

    public void FrameUnclaimed() => Interlocked.Increment(ref _unclaimed);
    public void Up(bool reconnect)
    {
        if (reconnect) Interlocked.Increment(ref _reconnects);
        bool changed = _problem is not null;
        _problem = null;
        if (changed) Changed?.Invoke();
    }

    public void Down(string problem)
    {
        bool changed = _problem != problem;
        _problem = problem;
        if (changed) Changed?.Invoke();
    }

    public string Name => $"camera {address}";
    public IReadOnlyDictionary<string, long> Counters => new Dictionary<string, long>
    {
        ["frames"] = Frames, ["incomplete"] = Incomplete, ["reconnects"] = Reconnects, ["unclaimed"] = Unclaimed,
    };
    public event Action? Changed;
}
