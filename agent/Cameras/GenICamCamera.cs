using System.Net;
using System.Runtime.InteropServices;
using static EdgePatchCore.Agent.Cameras.AravisNative;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// One open GenICam camera (Aravis): its settings, a stream with a fixed pool of frame buffers (handed to Aravis once and pushed
/// back after each frame is converted, so frames allocate no buffers), software triggers, and whether the camera still answers.
/// Opened by address only, never by discovery (which broadcasts on every interface). Not for concurrent readers: one acquisition thread
/// calls <see cref="Next"/>; <see cref="SoftwareTrigger"/> may come from any thread.
/// </summary>
public sealed class GenICamCamera : IDisposable
{
    private readonly object _lock = new();
    private readonly ControlLostHandler _onControlLost;
    private IntPtr _device, _camera, _stream;
    private byte[] _copy = [];
    private volatile bool _controlLost;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ControlLostHandler(IntPtr device, IntPtr data);

    private GenICamCamera(IntPtr device, string name)
    {
        Name = name;
        _device = device;
        _onControlLost = (_, _) => _controlLost = true; // on an Aravis thread: only a flag; the supervisor acts on it
        g_signal_connect_data(device, "control-lost", Marshal.GetFunctionPointerForDelegate(_onControlLost), IntPtr.Zero, IntPtr.Zero, 0);
        IntPtr error = IntPtr.Zero;
        _camera = arv_camera_new_with_device(device, out error);
        if (_camera == IntPtr.Zero || error != IntPtr.Zero)
        {
            g_object_unref(device);
            AravisError.ThrowIfSet(error, $"opening camera {name}");
            throw new CameraException($"opening camera {name}: Aravis gave no camera");
        }
        Vendor = Read(arv_camera_get_vendor_name, "reading DeviceVendorName") ?? "";
        Model = Read(arv_camera_get_model_name, "reading DeviceModelName") ?? "";
        Serial = Read(arv_camera_get_device_serial_number, "reading DeviceSerialNumber") ?? "";
    }

    /// <summary>A GigE Vision camera at <paramref name="address"/>, reached through the host's <paramref name="localInterface"/> address.</summary>
    public static GenICamCamera OpenGigE(IPAddress address, IPAddress localInterface)
    {
        IntPtr local = g_inet_address_new_from_string(localInterface.ToString()), remote = g_inet_address_new_from_string(address.ToString());
        try
        {
            IntPtr error = IntPtr.Zero;
            IntPtr device = arv_gv_device_new(local, remote, out error);
            AravisError.ThrowIfSet(error, $"connecting to the camera at {address} from {localInterface}");
            if (device == IntPtr.Zero) throw new CameraException($"no GigE Vision camera answers at {address}");
            return new GenICamCamera(device, address.ToString());
        }
        finally
        {
            g_object_unref(local);
            g_object_unref(remote);
        }
    }

    /// <summary>Aravis's in-process simulated camera (serial <paramref name="serial"/>): no network at all.</summary>
    public static GenICamCamera OpenSimulated(string serial)
    {
        IntPtr error = IntPtr.Zero;
        IntPtr device = arv_fake_device_new(serial, out error);
        AravisError.ThrowIfSet(error, "opening Aravis's simulated camera");
        return new GenICamCamera(device, "fake-" + serial);
    }

    public string Name { get; }
    public string Vendor { get; }
    public string Model { get; }
    public string Serial { get; }
    /// <summary>The camera stopped answering its control channel (unplugged, restarted, taken by another host): close and open again.</summary>
    public bool ControlLost => _controlLost;
    public string PixelFormat { get; private set; } = "";
    public int Width { get; private set; }
    public int Height { get; private set; }

    /// <summary>Sets <paramref name="settings"/> on the camera (before <see cref="Start"/>).</summary>
    public void Configure(CameraSettings settings)
    {
        IntPtr e = IntPtr.Zero;
        if (settings.PixelFormat is { } format)
        {
            arv_camera_set_pixel_format_from_string(_camera, format, out e);
            AravisError.ThrowIfSet(e, $"setting PixelFormat to {format}");
        }
        if (settings.Width is not null || settings.Height is not null || settings.OffsetX != 0 || settings.OffsetY != 0)
        {
            arv_camera_get_region(_camera, out _, out _, out int w, out int h, out e);
            AravisError.ThrowIfSet(e, "reading the region");
            arv_camera_set_region(_camera, settings.OffsetX, settings.OffsetY, settings.Width ?? w, settings.Height ?? h, out e);
            AravisError.ThrowIfSet(e, "setting the region (Width, Height, OffsetX, OffsetY)");
        }
        if (settings.ExposureMicroseconds is { } exposure)
        {
            arv_camera_set_exposure_time(_camera, exposure, out e);
            AravisError.ThrowIfSet(e, $"setting the exposure to {exposure} us");
        }
        if (settings.Gain is { } gain)
        {
            arv_camera_set_gain(_camera, gain, out e);
            AravisError.ThrowIfSet(e, $"setting the gain to {gain}");
        }
        if (settings.TriggerSource is { } source)
        {
            arv_camera_set_trigger(_camera, source, out e); // TriggerSelector FrameStart, TriggerMode On, TriggerSource
            AravisError.ThrowIfSet(e, $"setting TriggerSource to {source}");
            if (settings.TriggerActivation is { } activation)
            {
                arv_camera_set_string(_camera, "TriggerActivation", activation, out e);
                AravisError.ThrowIfSet(e, $"setting TriggerActivation to {activation}");
            }
        }
        else
        {
            arv_camera_clear_triggers(_camera, out e);
            AravisError.ThrowIfSet(e, "switching the triggers off (free-running)");
            if (settings.FrameRate is { } rate)
            {
                arv_camera_set_frame_rate(_camera, rate, out e);
                AravisError.ThrowIfSet(e, $"setting the frame rate to {rate}/s");
            }
        }
        ReadImageFormat();
        if (!PixelConversion.Formats.ContainsKey(PixelFormat))
            throw new CameraException($"the camera sends pixel format {PixelFormat}; set PixelFormat to Mono8, RGB8 or a Bayer*8 format");
    }

    /// <summary>Reads the camera's pixel format and image size as they are now (changes nothing).</summary>
    public void ReadImageFormat()
    {
        IntPtr e = IntPtr.Zero;
        uint pixelFormat = arv_camera_get_pixel_format(_camera, out e);
        AravisError.ThrowIfSet(e, "reading PixelFormat");
        PixelFormat = PixelConversion.Name(pixelFormat) ?? $"0x{pixelFormat:x8}";
        arv_camera_get_region(_camera, out _, out _, out int width, out int height, out e);
        AravisError.ThrowIfSet(e, "reading the region");
        (Width, Height) = (width, height);
    }

    /// <summary>Creates the stream with <paramref name="buffers"/> frame buffers and starts acquiring.</summary>
    public void Start(int buffers)
    {
        // Only the controller may stream and trigger: a GigE camera keeps its control channel for the last controller until its heartbeat
        // times out (a few seconds after that process died), or for good while another host holds it.
        if (arv_camera_is_gv_device(_camera) != 0 && arv_gv_device_is_controller(_device) == 0)
            throw new CameraException("another process or host controls this camera (its control channel is taken); it is free again a few " +
                                      "seconds after that controller stops");
        IntPtr e = IntPtr.Zero;
        _stream = arv_camera_create_stream(_camera, IntPtr.Zero, IntPtr.Zero, out e);
        AravisError.ThrowIfSet(e, "creating the stream");
        if (_stream == IntPtr.Zero) throw new CameraException("creating the stream: Aravis gave none");
        // Without CAP_NET_RAW the fixed default socket buffer loses packets of large frames: size it to the payload.
        if (arv_camera_is_gv_device(_camera) != 0) g_object_set_int(_stream, "socket-buffer", GvStreamSocketBufferAuto, IntPtr.Zero);
        uint payload = arv_camera_get_payload(_camera, out e);
        AravisError.ThrowIfSet(e, "reading PayloadSize");
        _copy = new byte[payload];
        for (int i = 0; i < buffers; i++) arv_stream_push_buffer(_stream, arv_buffer_new_allocate(payload));
        arv_camera_start_acquisition(_camera, out e);
        AravisError.ThrowIfSet(e, "starting the acquisition");
    }

    /// <summary>The next frame, or null when none came within <paramref name="timeout"/>. The buffer goes back to the stream before this
    /// returns.</summary>
    public CameraFrame? Next(TimeSpan timeout)
    {
        IntPtr buffer = arv_stream_timeout_pop_buffer(_stream, (ulong)(timeout.TotalMilliseconds * 1000));
        if (buffer == IntPtr.Zero) return null;
        try
        {
            var received = DateTimeOffset.UtcNow;
            ulong id = arv_buffer_get_frame_id(buffer), stamp = arv_buffer_get_timestamp(buffer);
            int status = arv_buffer_get_status(buffer);
            if (status != BufferStatusSuccess) return new CameraFrame(null, id, stamp, received, $"incomplete frame ({StatusName(status)})");
            IntPtr data = arv_buffer_get_image_data(buffer, out nuint size);
            int width = arv_buffer_get_image_width(buffer), height = arv_buffer_get_image_height(buffer);
            uint format = arv_buffer_get_image_pixel_format(buffer);
            long needed = PixelConversion.Bytes(format, width, height);
            if (data == IntPtr.Zero || (ulong)needed > size || needed > _copy.Length)
                return new CameraFrame(null, id, stamp, received, $"frame of {width} x {height} holds {size} bytes, {needed} needed");
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            Marshal.Copy(data, _copy, 0, (int)needed);
            try
            {
                var image = PixelConversion.ToRgb(_copy.AsSpan(0, (int)needed), width, height, format);
                return new CameraFrame(image, id, stamp, received, null, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (CameraException e) { return new CameraFrame(null, id, stamp, received, e.Message); } // this frame fails alone
        }
        finally { arv_stream_push_buffer(_stream, buffer); }
    }

    /// <summary>Fires TriggerSoftware (the camera must be set to TriggerSource Software and acquiring).</summary>
    public void SoftwareTrigger()
    {
        lock (_lock)
        {
            if (_camera == IntPtr.Zero) throw new CameraException($"camera {Name} is closed");
            IntPtr e = IntPtr.Zero;
            arv_camera_software_trigger(_camera, out e);
            AravisError.ThrowIfSet(e, "firing TriggerSoftware");
        }
    }

    public CameraStatistics Statistics()
    {
        if (_stream == IntPtr.Zero) return default;
        arv_stream_get_statistics(_stream, out ulong completed, out ulong failures, out ulong underruns);
        return new CameraStatistics(completed, failures, underruns);
    }

    private static string StatusName(int status) => status switch
    {
        1 => "cleared", 2 => "timeout: packets did not arrive in time", 3 => "missing packets", 4 => "wrong packet id", 5 => "size mismatch",
        6 => "still filling", 7 => "aborted", _ => $"status {status}",
    };

    private delegate IntPtr StringGetter(IntPtr camera, out IntPtr error);

    private string? Read(StringGetter getter, string doing)
    {
        IntPtr e = IntPtr.Zero;
        IntPtr text = getter(_camera, out e);
        AravisError.ThrowIfSet(e, doing);
        return Text(text);
    }

    /// <summary>Stops acquiring and releases the stream, the camera and the device. May block for seconds when the camera is
    /// gone.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_camera == IntPtr.Zero) return;
            IntPtr e = IntPtr.Zero;
            if (_stream != IntPtr.Zero)
            {
                arv_camera_stop_acquisition(_camera, out e);
                if (e != IntPtr.Zero) g_error_free(e); // a camera that is gone cannot stop: it is released all the same
                g_object_unref(_stream);
            }
            g_object_unref(_camera);
            g_object_unref(_device);
            (_stream, _camera, _device) = (IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
        }
        GC.KeepAlive(_onControlLost);
    }
}
