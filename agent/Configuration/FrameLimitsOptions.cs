namespace EdgePatchCore.Agent.Configuration;

public sealed class FrameLimitsOptions
{
    public long MaxFrameBytes { get; set; } = 64L << 20;
    /// <summary>The camera's size: wider or taller frames are refused before decoding.</summary>
    public int MaxWidth { get; set; } = 8192;
    public int MaxHeight { get; set; } = 6144;
    /// <summary>Most pixels per frame; default MaxWidth x MaxHeight.</summary>
    public long? MaxPixels { get; set; }
    public long ResolvedMaxPixels => MaxPixels ?? (long)MaxWidth * MaxHeight;
    /// <summary>Longer side over shorter side.</summary>
    public double MaxAspectRatio { get; set; } = 16;
    /// <summary>Scans per progressive JPEG (each re-reads the whole image).</summary>
    public int MaxJpegScans { get; set; } = 64;
    /// <summary>Time one decode may take before the frame gets an error verdict.</summary>
    public int DecodeTimeoutMilliseconds { get; set; } = 5000;
    /// <summary>Frames are JPEG, PNG or BMP; TIFF only when turned on (its decoder is a larger attack surface).</summary>
    public bool AcceptTiff { get; set; }

    public Imaging.ImageLimits ToImageLimits() => new()
    {
        MaxBytes = MaxFrameBytes,
        MaxWidth = MaxWidth,
        MaxHeight = MaxHeight,
        MaxPixels = ResolvedMaxPixels,
        MaxAspectRatio = MaxAspectRatio,
        MaxJpegScans = MaxJpegScans,
        DecodeTimeout = TimeSpan.FromMilliseconds(DecodeTimeoutMilliseconds),
        AcceptTiff = AcceptTiff,
    };
}
