namespace EdgePatchCore.Agent.Cameras;

/// <summary>Opens a camera by address once and says what it is (for `agent cameras` and `agent check-config`); never discovers.</summary>
public static class CameraProbe
{
    /// <summary>"Vendor Model (serial S), PixelFormat W x H" of the camera at <paramref name="address"/>; throws <see cref="CameraException"/>
    /// when it cannot be reached or Aravis is not installed.</summary>
    public static string Describe(string address, string? interfaceName)
    {
        var (camera, local) = CameraAddress.Resolve(address, interfaceName);
        try
        {
            using var open = GenICamCamera.OpenGigE(camera, local);
            open.ReadImageFormat();
            return $"{open.Vendor} {open.Model} (serial {open.Serial}), {open.PixelFormat} {open.Width} x {open.Height}, reached from {local}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new CameraException("Aravis is not installed (apt-get install libaravis-0.8-0)");
        }
    }
}
