using System.Runtime.InteropServices;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// Turns a GError out-pointer into a <see cref="CameraException"/> (and frees it). GError is { GQuark domain; gint code; gchar *message }; the
/// domain is compared by its quark's name, because quark numbers differ from run to run.
/// </summary>
internal static class AravisError
{
    /// <summary>Throws when <paramref name="error"/> is set; <paramref name="doing"/> says what was being done ("setting PixelFormat to
    /// Mono8").</summary>
    public static void ThrowIfSet(IntPtr error, string doing)
    {
        if (error == IntPtr.Zero) return;
        string domain = AravisNative.Text(AravisNative.g_quark_to_string((uint)Marshal.ReadInt32(error))) ?? "?";
        int code = Marshal.ReadInt32(error, 4);
        string message = AravisNative.Text(Marshal.ReadIntPtr(error, 8)) ?? "(no message)";
        AravisNative.g_error_free(error);
        throw new CameraException($"{doing}: {message} ({domain} {code})", domain, code);
    }
}
