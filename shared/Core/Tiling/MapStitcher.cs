using EdgePatchCore.Imaging;

namespace EdgePatchCore.Tiling;

/// <summary>
/// One anomaly map for a tiled frame: each tile's patch-score grid is upsampled to the tile's pixels (bilinear, as the
/// whole-frame map), placed at the tile's origin, and where tiles overlap the map keeps the <b>maximum</b> (a defect
/// that any tile sees stays at its full score; the tile edges were part of every training tile too). Then the same
/// Gaussian blur as the whole-frame map, over the whole scaled frame, so no seam is left at tile borders.
/// Buffers are kept from frame to frame; only the returned map is new.
/// </summary>
public sealed class MapStitcher(float blurSigma)
{
    private readonly float[] _kernel = blurSigma > 0 ? Resampling.GaussianKernel(blurSigma) : [1f];
    private float[] _tiles = [], _scores = [];
    private float[] _scratch = [];

    /// <param name="patchScores">tiles x gridHeight x gridWidth patch scores, tiles in <paramref name="layout"/> order</param>
    /// <returns>layout.Height x layout.Width map</returns>
    public float[] Stitch(ReadOnlySpan<float> patchScores, int gridWidth, int gridHeight, TileLayout layout)
    {
        int n = layout.TileSize, per = gridWidth * gridHeight;
        if (patchScores.Length < layout.Count * per) throw new ArgumentException($"{patchScores.Length} patch scores for {layout.Count} tiles of " +
            $"{per}");
        // The tiles are upsampled on every core, each into its own buffer, then placed one after another (overlaps keep the maximum).
        if (_tiles.Length < layout.Count * n * n) _tiles = new float[layout.Count * n * n];
        if (_scores.Length < layout.Count * per) _scores = new float[layout.Count * per];
        var (tilesBuffer, scores) = (_tiles, _scores);
        patchScores.Slice(0, layout.Count * per).CopyTo(scores);
        Parallel.For(0, layout.Count, t => Resampling.ResizeBilinear(scores.AsSpan(t * per, per), gridWidth, gridHeight,
            tilesBuffer.AsSpan(t * n * n, n * n), n, n));
        var map = new float[layout.Width * layout.Height];
        map.AsSpan().Fill(float.NegativeInfinity);
        for (int t = 0; t < layout.Count; t++)
        {
            var (x0, y0) = layout.Origin(t);
            for (int y = 0; y < n; y++)
            {
                var source = _tiles.AsSpan(t * n * n + y * n, n);
                var target = map.AsSpan((y0 + y) * layout.Width + x0, n);
                System.Numerics.Tensors.TensorPrimitives.Max(source, target, target);
            }
        }
        if (_kernel.Length > 1)
        {
            if (_scratch.Length < map.Length) _scratch = new float[map.Length];
            Resampling.GaussianBlur(map, layout.Width, layout.Height, _kernel, _scratch);
        }
        return map;
    }
}
