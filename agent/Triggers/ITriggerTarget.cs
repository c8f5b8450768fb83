namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// A triggered camera source. It attaches itself to the <see cref="TriggerBook"/> when it starts, so the book knows whether a trigger can be
/// taken now; in TriggerSource Software it fires the frame for each trigger message, and the frame it delivers carries the part id
/// (<see cref="Pipeline.Frame.PartId"/>).
/// </summary>
public interface ITriggerTarget
{
    /// <summary>Null when trigger messages fire this camera (TriggerSource Software); otherwise why they are refused (a hardware line fires
    /// it).</summary>
    string? RefusesMessages { get; }

    /// <summary>Null while a trigger can be fired now; otherwise why not (the camera is reconnecting, ...).</summary>
    string? NotReady { get; }

    /// <summary>Fires one frame for <paramref name="partId"/>, scored with <paramref name="product"/>'s model (null: the camera's);
    /// throws <see cref="Cameras.CameraException"/> when the camera refuses.</summary>
    void Fire(string partId, string? product);
}
