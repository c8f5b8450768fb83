using EdgePatchCore.Imaging;
using EdgePatchCore.Tiling;

namespace EdgePatchCore.Tests.Tiling;

public class MapStitcherTests
{
    /// <summary>
    /// The reference, written per pixel from the definition: for every tile that covers the pixel, the bilinear value of
    /// that tile's patch grid at the pixel's position inside the tile (half-pixel centres, clamped at the grid's edge);
    /// the map keeps the largest of them.
    /// </summary>
    private static float[] Reference(float[] scores, int gridWidth, int gridHeight, TileLayout layout)
    {
        int n = layout.TileSize, per = gridWidth * gridHeight;
        var map = new float[layout.Width * layout.Height];
        for (int y = 0; y < layout.Height; y++)
            for (int x = 0; x < layout.Width; x++)
            {
                float best = float.NegativeInfinity;
                for (int t = 0; t < layout.Count; t++)
                {
                    var (x0, y0) = layout.Origin(t);
                    int u = x - x0, v = y - y0;
                    if (u < 0 || v < 0 || u >= n || v >= n) continue;
                    double gx = Math.Max((u + 0.5) * gridWidth / n - 0.5, 0), gy = Math.Max((v + 0.5) * gridHeight / n - 0.5, 0);
                    int ix = Math.Min((int)gx, gridWidth - 1), iy = Math.Min((int)gy, gridHeight - 1);
                    int jx = Math.Min(ix + 1, gridWidth - 1), jy = Math.Min(iy + 1, gridHeight - 1);
                    double wx = gx - ix, wy = gy - iy;
                    float G(int gxi, int gyi) => scores[t * per + gyi * gridWidth + gxi];
                    double top = G(ix, iy) + (G(jx, iy) - G(ix, iy)) * wx, bottom = G(ix, jy) + (G(jx, jy) - G(ix, jy)) * wx;
                    best = Math.Max(best, (float)(top + (bottom - top) * wy));
                }
                map[y * layout.Width + x] = best;
            }
        return map;
    }

    private static float[] Field(TileLayout layout, int per, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, layout.Count * per).Select(_ => (float)rng.NextDouble() * 10).ToArray();
    }

    [Theory]
    [InlineData(500, 300, 224, 16)]
    [InlineData(224, 224, 224, 0)]
    [InlineData(640, 480, 128, 32)]
    public void Stitching_without_blur_equals_the_per_pixel_reference(int width, int height, int tile, int overlap)
    {
        var layout = new TilingSpec { TileSize = tile, Overlap = overlap }.Layout(width, height);
        int grid = tile / 8;
        var scores = Field(layout, grid * grid, width + height);
        var map = new MapStitcher(blurSigma: 0).Stitch(scores, grid, grid, layout);
        var reference = Reference(scores, grid, grid, layout);
        Assert.Equal(reference.Length, map.Length);
        for (int i = 0; i < map.Length; i++) Assert.True(Math.Abs(map[i] - reference[i]) <= 1e-4f, $"pixel {i % width},{i / width}: {map[i]} vs {reference[i]}");
    }

    [Fact]
    public void The_blur_runs_over_the_whole_stitched_map()
    {
        var layout = new TilingSpec { TileSize = 224, Overlap = 16 }.Layout(600, 400);
        var scores = Field(layout, 28 * 28, 7);
        var map = new MapStitcher(blurSigma: 4).Stitch(scores, 28, 28, layout);
        var expected = Reference(scores, 28, 28, layout);
        Resampling.GaussianBlur(expected, layout.Width, layout.Height, Resampling.GaussianKernel(4), new float[expected.Length]);
        for (int i = 0; i < map.Length; i++) Assert.True(Math.Abs(map[i] - expected[i]) <= 1e-4f, $"pixel {i}: {map[i]} vs {expected[i]}");
    }

    [Fact]
    public void Overlaps_keep_the_maximum_of_the_tiles()
    {
        // Two tiles side by side overlapping by 32 pixels: tile 0 all 1, tile 1 all 5. The overlap takes 5, the rest its own tile.
        var layout = new TilingSpec { TileSize = 64, Overlap = 32 }.Layout(96, 64);
        Assert.Equal([0, 32], layout.ColumnOrigins);
        var scores = Enumerable.Repeat(1f, 64).Concat(Enumerable.Repeat(5f, 64)).ToArray();
        var map = new MapStitcher(0).Stitch(scores, 8, 8, layout);
        Assert.Equal(1f, map[10]);
        Assert.Equal(5f, map[40]);
        Assert.Equal(5f, map[95]);
    }
}
