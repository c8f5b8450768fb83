namespace EdgePatchCore.Agent.Cameras;

/// <summary>A camera could not be opened, set up or read; <see cref="Domain"/> is Aravis's error domain name (e.g. arv-device-error-quark).</summary>
public sealed class CameraException(string message, string domain = "", int code = 0) : Exception(message)
{
    public string Domain { get; } = domain;
    public int Code { get; } = code;
}
