namespace EdgePatchCore.Tiling;

/// <summary>Milliseconds spent in each stage of scoring tiled frames (added up over the frames scored with it), and the tiles.</summary>
public sealed class TiledStageTimes
{
    public double TilingMs;
    public double BackboneMs;
    public double KnnMs;
    public double StitchingMs;
    /// <summary>The whole-frame scale of a model with both scales (resize, backbone, search, map).</summary>
    public double WholeFrameMs;
    public int Tiles;

    /// <summary>Back to zero; returns this.</summary>
    public TiledStageTimes Reset()
    {
        (TilingMs, BackboneMs, KnnMs, StitchingMs, WholeFrameMs, Tiles) = (0, 0, 0, 0, 0, 0);
        return this;
    }
}
