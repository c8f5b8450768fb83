using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tiling;

/// <summary>
/// A decoded frame brought to its tiling scale, and its tiles. Tiles are written straight from the image's pixel rows
/// into the network's input buffer, a few at a time (no image per tile, no float copy of the whole frame). Holds the
/// scaled image only when scaling made a new one; the decoded image stays the caller's.
/// </summary>
public sealed class TiledFrame : IDisposable
{
    private readonly Image<Rgb24>? _owned;

    /// <summary>The frame at the tiling scale (the decoded image itself when no scaling was needed).</summary>
    public Image<Rgb24> Scaled { get; }
    public TileLayout Layout { get; }
    /// <summary>The frame's size as decoded, before scaling.</summary>
    public int FrameWidth { get; }
    public int FrameHeight { get; }

    private TiledFrame(Image<Rgb24> scaled, Image<Rgb24>? owned, TileLayout layout, int frameWidth, int frameHeight)
    {
        (Scaled, _owned, Layout, FrameWidth, FrameHeight) = (scaled, owned, layout, frameWidth, frameHeight);
    }

    /// <summary>Scales <paramref name="decoded"/> per <paramref name="tiling"/> (only when its size changes) and lays out its tiles.</summary>
    /// <param name="takeOwnership">the frame disposes <paramref name="decoded"/> (at once when scaling replaced it)</param>
    public static TiledFrame From(Image<Rgb24> decoded, TilingSpec tiling, string name = "image", bool takeOwnership = false)
    {
        var layout = tiling.Layout(decoded.Width, decoded.Height);
        if (layout.Width == decoded.Width && layout.Height == decoded.Height)
            return new TiledFrame(decoded, takeOwnership ? decoded : null, layout, decoded.Width, decoded.Height);
        var scaled = ImageLoader.Resize(decoded, new InputSpec { Width = layout.Width, Height = layout.Height, Mode = ResizeMode.Stretch }, name);
        var (width, height) = (decoded.Width, decoded.Height);
        if (takeOwnership) decoded.Dispose();
        return new TiledFrame(scaled, scaled, layout, width, height);
    }

    /// <summary>
    /// Writes tiles <paramref name="first"/>..first+count-1 as network inputs into <paramref name="inputs"/>:
    /// count x 3 x TileSize x TileSize floats, RGB in 0..1, planar per tile (NCHW).
    /// </summary>
    public void WriteTiles(int first, int count, Span<float> inputs)
    {
        int n = Layout.TileSize, plane = n * n;
        if ((uint)first > (uint)Layout.Count || count < 0 || first + count > Layout.Count) throw new ArgumentOutOfRangeException(nameof(count));
        if (inputs.Length < count * 3 * plane) throw new ArgumentException($"input buffer holds {inputs.Length} values, {count * 3 * plane} needed");
        // The image's own pixel buffer: one block when the decoder was told to prefer contiguous buffers (ImageLoader
        // is), else row by row (ImageSharp may keep a large image in several blocks).
        bool whole = Scaled.DangerousTryGetSinglePixelMemory(out var pixels);
        int width = Scaled.Width;
        const float inv = 1f / 255f;
        for (int t = 0; t < count; t++)
        {
            var (x0, y0) = Layout.Origin(first + t);
            var tile = inputs.Slice(t * 3 * plane, 3 * plane);
            for (int y = 0; y < n; y++)
            {
                var source = whole
                    ? pixels.Span.Slice((y0 + y) * width + x0, n)
                    : Scaled.DangerousGetPixelRowMemory(y0 + y).Span.Slice(x0, n);
                var r = tile.Slice(y * n, n);
                var g = tile.Slice(plane + y * n, n);
                var b = tile.Slice(2 * plane + y * n, n);
                for (int x = 0; x < n; x++)
                {
                    r[x] = source[x].R * inv;
                    g[x] = source[x].G * inv;
                    b[x] = source[x].B * inv;
                }
            }
        }
    }

    public void Dispose() => _owned?.Dispose();
}
