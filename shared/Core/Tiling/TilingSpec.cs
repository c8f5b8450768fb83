using EdgePatchCore.Imaging;
using MessagePack;

namespace EdgePatchCore.Tiling;

/// <summary>
/// Tiled inspection, chosen at build time and stored in the artifact (null = the whole frame resized to the input
/// size). The frame is scaled by <see cref="Scale"/>, then covered by <see cref="TileSize"/>-pixel square tiles that
/// overlap by at least <see cref="Overlap"/> pixels, the last row and column aligned to the frame's edge. Every tile is
/// one network input at its native pixels; the anomaly map lives at the scaled frame's size (docs/design.md, "Tiling").
/// </summary>
[MessagePackObject]
public sealed record TilingSpec
{
    public const int MinTileSize = 32, MaxTileSize = 1024;
    public const double MinScale = 0.05, MaxScale = 4;

    /// <summary>Side of a tile in scaled-frame pixels; also the network's input size.</summary>
    [Key(0)] public int TileSize { get; init; } = 224;
    /// <summary>Least overlap of neighbouring tiles in pixels: the context a patch at a tile's edge lacks (one layer-3 stride).</summary>
    [Key(1)] public int Overlap { get; init; } = 16;
    /// <summary>Frame scale before tiling: 1 = native pixels, 0.5 = half the width and height.</summary>
    [Key(2)] public float Scale { get; init; } = 1f;

    /// <summary>The network input a tile is: TileSize x TileSize, no resize.</summary>
    [IgnoreMember] public InputSpec NetworkInput => new() { Width = TileSize, Height = TileSize, Mode = ResizeMode.Stretch };

    /// <summary>The scaled frame's size: each side times <see cref="Scale"/>, but at least one tile (a smaller side is stretched to it).</summary>
    public (int Width, int Height) ScaledSize(int frameWidth, int frameHeight) =>
        (Math.Max(TileSize, (int)Math.Round(frameWidth * (double)Scale)), Math.Max(TileSize, (int)Math.Round(frameHeight * (double)Scale)));

    /// <summary>The tiles of a frame of this size (before scaling).</summary>
    public TileLayout Layout(int frameWidth, int frameHeight)
    {
        var (w, h) = ScaledSize(frameWidth, frameHeight);
        return new TileLayout(w, h, TileSize, TileLayout.Origins(w, TileSize, Overlap), TileLayout.Origins(h, TileSize, Overlap));
    }

    /// <summary>Where a frame's anomaly map lies: the scaled frame, reached from the frame by a plain stretch.</summary>
    public InputSpec MapGeometry(int frameWidth, int frameHeight)
    {
        var (w, h) = ScaledSize(frameWidth, frameHeight);
        return new InputSpec { Width = w, Height = h, Mode = ResizeMode.Stretch };
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a message for the user when a value is out of range.</summary>
    public void Validate()
    {
        if (TileSize is < MinTileSize or > MaxTileSize) throw new ArgumentException($"tile size {TileSize} is outside {MinTileSize}..{MaxTileSize} " +
            $"pixels");
        if (Overlap < 0
            || Overlap > TileSize / 2) throw new ArgumentException($"tile overlap {Overlap} is outside 0..{TileSize / 2} pixels (half a tile)");
        if (!(Scale >= MinScale && Scale <= MaxScale)) throw new ArgumentException($"scale {Scale} is outside {MinScale}..{MaxScale}");
    }

    public override string ToString() =>
        $"{TileSize}x{TileSize} tiles, overlap >= {Overlap} px, scale {Scale.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}";
}
