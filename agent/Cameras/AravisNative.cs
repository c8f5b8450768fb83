using System.Runtime.InteropServices;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// The slice of Aravis 0.8 (Debian's libaravis-0.8-0) and GLib the camera source calls, by plain P/Invoke. Conventions
/// every caller keeps (docs/agent.md, "GenICam cameras"): a GError out-pointer is zeroed before each call (the marshaller does
/// not clear it) and read with <see cref="AravisError"/>; a <c>const char*</c> return is an <see cref="IntPtr"/> owned by
/// Aravis, copied at once, never freed; objects are released with <see cref="g_object_unref"/>.
/// </summary>
internal static class AravisNative
{
    private const string Aravis = "libaravis-0.8.so.0", GObject = "libgobject-2.0.so.0", GLib = "libglib-2.0.so.0", Gio = "libgio-2.0.so.0";

    // Pixel formats (arvenums.h, GenICam PFNC values).
    public const uint Mono8 = 0x01080001, Mono16 = 0x01100007, Rgb8 = 0x02180014, BayerGR8 = 0x01080008, BayerRG8 = 0x01080009,
                      BayerGB8 = 0x0108000a, BayerBG8 = 0x0108000b;
    public const int BufferStatusSuccess = 0;
    public const int GvStreamSocketBufferAuto = 1;

    [DllImport(Gio)] public static extern IntPtr g_inet_address_new_from_string(string address);
    [DllImport(GObject)] public static extern void g_object_unref(IntPtr instance);
    /// <summary>g_object_set with one int-valued property (the C function is variadic: the NULL terminator is passed explicitly).</summary>
    [DllImport(GObject, EntryPoint = "g_object_set")]
    public static extern void g_object_set_int(IntPtr instance, string property, int value, IntPtr terminator);
    [DllImport(GObject)]
    public static extern ulong g_signal_connect_data(IntPtr instance, string signal, IntPtr handler, IntPtr data, IntPtr destroy, int flags);
    [DllImport(GLib)] public static extern void g_error_free(IntPtr error);
    [DllImport(GLib)] public static extern IntPtr g_quark_to_string(uint quark);

    [DllImport(Aravis)] public static extern int arv_gv_device_is_controller(IntPtr gvDevice);
    [DllImport(Aravis)] public static extern IntPtr arv_gv_device_new(IntPtr interfaceAddress, IntPtr deviceAddress, out IntPtr error);
    [DllImport(Aravis)] public static extern IntPtr arv_fake_device_new(string serialNumber, out IntPtr error);
    [DllImport(Aravis)] public static extern IntPtr arv_camera_new_with_device(IntPtr device, out IntPtr error);
    [DllImport(Aravis)] public static extern IntPtr arv_camera_get_vendor_name(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern IntPtr arv_camera_get_model_name(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern IntPtr arv_camera_get_device_serial_number(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_pixel_format_from_string(IntPtr camera, string format, out IntPtr error);
    [DllImport(Aravis)] public static extern uint arv_camera_get_pixel_format(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_region(IntPtr camera, int x, int y, int width, int height, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_get_region(IntPtr camera, out int x, out int y, out int width, out int height,
        out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_exposure_time(IntPtr camera, double microseconds, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_gain(IntPtr camera, double gain, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_frame_rate(IntPtr camera, double rate, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_trigger(IntPtr camera, string source, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_clear_triggers(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_set_string(IntPtr camera, string feature, string value, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_software_trigger(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern uint arv_camera_get_payload(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_start_acquisition(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern void arv_camera_stop_acquisition(IntPtr camera, out IntPtr error);
    [DllImport(Aravis)] public static extern int arv_camera_is_gv_device(IntPtr camera);
    [DllImport(Aravis)] public static extern IntPtr arv_camera_create_stream(IntPtr camera, IntPtr callback, IntPtr userData, out IntPtr error);

    [DllImport(Aravis)] public static extern IntPtr arv_buffer_new_allocate(nuint size);
    [DllImport(Aravis)] public static extern void arv_stream_push_buffer(IntPtr stream, IntPtr buffer);
    [DllImport(Aravis)] public static extern IntPtr arv_stream_timeout_pop_buffer(IntPtr stream, ulong timeoutMicroseconds);
    [DllImport(Aravis)] public static extern void arv_stream_get_statistics(IntPtr stream, out ulong completed, out ulong failures,
        out ulong underruns);
    [DllImport(Aravis)] public static extern int arv_buffer_get_status(IntPtr buffer);
    [DllImport(Aravis)] public static extern IntPtr arv_buffer_get_image_data(IntPtr buffer, out nuint size);
    [DllImport(Aravis)] public static extern int arv_buffer_get_image_width(IntPtr buffer);
    [DllImport(Aravis)] public static extern int arv_buffer_get_image_height(IntPtr buffer);
    [DllImport(Aravis)] public static extern uint arv_buffer_get_image_pixel_format(IntPtr buffer);
    [DllImport(Aravis)] public static extern ulong arv_buffer_get_frame_id(IntPtr buffer);
    [DllImport(Aravis)] public static extern ulong arv_buffer_get_timestamp(IntPtr buffer);
    [DllImport(Aravis)] public static extern ulong arv_buffer_get_system_timestamp(IntPtr buffer);

    /// <summary>A copy of a <c>const char*</c> Aravis owns (null stays null).</summary>
    public static string? Text(IntPtr utf8) => utf8 == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(utf8);
}
