namespace EdgePatchCore.Agent.Cameras;

/// <summary>Opens a camera by address once and says what it is (for `agent cameras` and `agent check-config`); never discovers.</summary>
public static class CameraProbe
{
    /// <summary>"Vendor Model (serial S), PixelFormat W x H" of the camera at <paramref name="address"/>; throws <see cref="CameraException"/>
    /// when it cannot be reached or Aravis is not installed.</summary>
    public static string Describe(string address, string? interfaceName) => Open(address, interfaceName, open =>
        $"{open.Vendor} {open.Model} (serial {open.Serial}), {open.PixelFormat} {open.Width} x {open.Height}");

    /// <summary>
    /// Acquires <paramref name="frames"/> frames free-running (triggers switched off) with the camera's other settings as they are and says
    /// how they came: frames a second, incomplete ones, and the CPU this process spent on them (Aravis's stream thread receiving the
    /// packets, and the copy and conversion to RGB; nothing else runs), per frame, with the conversion alone.
    /// </summary>
    public static string Acquire(string address, string? interfaceName, int frames) => Open(address, interfaceName, open =>
    {
        open.Configure(new CameraSettings());
        open.Start(buffers: 8);
        var cpu = System.Diagnostics.Process.GetCurrentProcess();
        var cpuBefore = cpu.TotalProcessorTime;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int got = 0, incomplete = 0, waits = 0;
        double convertMs = 0;
        while (got + incomplete < frames && waits < 10)
        {
            if (open.Next(TimeSpan.FromSeconds(1)) is not { } frame) { waits++; continue; }
            frame.Image?.Dispose();
            if (frame.Problem is not null) { incomplete++; continue; }
            convertMs += frame.ConversionMs;
            got++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        cpu.Refresh();
        double cpuMs = (cpu.TotalProcessorTime - cpuBefore).TotalMilliseconds;
        if (got == 0) throw new CameraException($"no complete frame came ({incomplete} incomplete; {waits} s without any)");
        ulong underruns = open.Statistics().Underruns;
        return $"{got} frames of {open.PixelFormat} {open.Width} x {open.Height} in {seconds:F1} s ({got / seconds:F1}/s), {incomplete} " +
               $"incomplete, {underruns} lost for want of a free buffer; " +
               $"CPU {cpuMs / got:F2} ms a frame (acquisition and conversion to RGB), of which conversion {convertMs / got:F2} ms";
    });

    private static string Open(string address, string? interfaceName, Func<GenICamCamera, string> use)
    {
        var (camera, local) = CameraAddress.Resolve(address, interfaceName);
        try
        {
            using var open = GenICamCamera.OpenGigE(camera, local);
            open.ReadImageFormat();
            return use(open) + $", reached from {local}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new CameraException("Aravis is not installed (apt-get install libaravis-0.8-0)");
        }
    }
}
