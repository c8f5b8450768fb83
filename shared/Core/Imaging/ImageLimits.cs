namespace EdgePatchCore.Imaging;

/// <summary>
/// Limits checked before any pixel buffer exists (on the header alone) and while decoding, so that a
/// crafted or damaged file costs at most what a legitimate frame of the allowed size costs.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>Largest file read; a file is never read past this (plus one byte to detect it).</summary>
    public long MaxBytes { get; init; } = 256L << 20;
    /// <summary>Widest and tallest image accepted, each on its own (a 1 x 50,000,000 image has few pixels but is not a frame).</summary>
    public int MaxWidth { get; init; } = 16384;
    public int MaxHeight { get; init; } = 16384;
    /// <summary>Most pixels (width x height) accepted.</summary>
    public long MaxPixels { get; init; } = 50_000_000;
    /// <summary>Longer side over shorter side: beyond it the resize to the network input would need buffers far larger than the frame.</summary>
    public double MaxAspectRatio { get; init; } = 16;
    /// <summary>Progressive JPEGs re-read the whole image once per scan; real encoders write at most a dozen.</summary>
    public int MaxJpegScans { get; init; } = 64;
    /// <summary>Time one decode may take before it is abandoned as a crafted or damaged image.</summary>
    public TimeSpan DecodeTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>TIFF is for training data from lab cameras; the agent leaves it off for untrusted frames (less decoder surface).</summary>
    public bool AcceptTiff { get; init; } = true;
}
