namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// What takes a software trigger: a camera source in TriggerSource Software. It attaches itself to the <see cref="TriggerBook"/> when it
/// starts; the frame it delivers for the trigger carries the part id (<see cref="Pipeline.Frame.PartId"/>).
/// </summary>
public interface ITriggerTarget
{
    /// <summary>Null while a trigger can be fired now; otherwise why not (the camera is reconnecting, ...).</summary>
    string? NotReady { get; }

    /// <summary>Fires one frame for <paramref name="partId"/>, scored with <paramref name="product"/>'s model (null: the camera's);
    /// throws <see cref="Cameras.CameraException"/> when the camera refuses.</summary>
    void Fire(string partId, string? product);
}
