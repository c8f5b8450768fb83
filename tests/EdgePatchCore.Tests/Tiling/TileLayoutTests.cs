using EdgePatchCore.Tiling;

namespace EdgePatchCore.Tests.Tiling;

public class TileLayoutTests
{
    /// <summary>Counts how many tiles cover each pixel of the layout's frame.</summary>
    private static int[] Coverage(TileLayout layout)
    {
        var count = new int[layout.Width * layout.Height];
        for (int t = 0; t < layout.Count; t++)
        {
            var (x0, y0) = layout.Origin(t);
            Assert.InRange(x0, 0, layout.Width - layout.TileSize);
            Assert.InRange(y0, 0, layout.Height - layout.TileSize);
            for (int y = y0; y < y0 + layout.TileSize; y++)
                for (int x = x0; x < x0 + layout.TileSize; x++) count[y * layout.Width + x]++;
        }
        return count;
    }

    [Theory]
    [InlineData(1600, 1200, 224, 16)]
    [InlineData(2448, 2048, 224, 16)]
    [InlineData(4096, 3000, 256, 32)]
    [InlineData(224, 224, 224, 16)]     // exactly one tile
    [InlineData(432, 640, 224, 16)]     // 432 = 224 + 208: a multiple of the stride (tile - overlap) past the first tile
    [InlineData(1264, 448, 224, 16)]    // 1264 = 224 + 5 x 208
    [InlineData(225, 300, 224, 0)]      // one pixel past a tile, no overlap asked for
    [InlineData(1000, 700, 224, 112)]   // the largest overlap allowed (half a tile)
    public void Tiles_cover_every_pixel_stay_inside_and_overlap_at_least_as_asked(int width, int height, int tile, int overlap)
    {
        var layout = new TilingSpec { TileSize = tile, Overlap = overlap }.Layout(width, height);
        Assert.Equal((width, height), (layout.Width, layout.Height));
        Assert.All(Coverage(layout), c => Assert.True(c >= 1, "a pixel no tile covers"));
        foreach (var origins in new[] { layout.ColumnOrigins, layout.RowOrigins })
        {
            Assert.Equal(0, origins[0]);
            Assert.Equal((origins == layout.ColumnOrigins ? width : height) - tile, origins[^1]); // the last tile on the frame's edge
            for (int i = 1; i < origins.Length; i++)
            {
                Assert.True(origins[i] > origins[i - 1], "origins must increase");
                Assert.True(tile - (origins[i] - origins[i - 1]) >= overlap, $"neighbours overlap by {tile - (origins[i] - origins[i - 1])} < {overlap}");
            }
            // As few tiles as the overlap allows: one fewer could not cover the side with that overlap.
            int side = origins[^1] + tile;
            if (origins.Length > 1) Assert.True((origins.Length - 2) * (tile - overlap) + tile < side);
        }
    }

    [Fact]
    public void A_side_that_is_a_multiple_of_the_stride_gets_evenly_spaced_tiles_exactly_one_stride_apart()
    {
        var layout = new TilingSpec { TileSize = 224, Overlap = 16 }.Layout(224 + 5 * 208, 224 + 208);
        Assert.Equal([0, 208, 416, 624, 832, 1040], layout.ColumnOrigins);
        Assert.Equal([0, 208], layout.RowOrigins);
        Assert.Equal(12, layout.Count);
    }

    [Fact]
    public void A_frame_smaller_than_one_tile_is_stretched_to_one_tile_on_that_side()
    {
        var spec = new TilingSpec { TileSize = 224, Overlap = 16 };
        var layout = spec.Layout(100, 1000);
        Assert.Equal((224, 1000), (layout.Width, layout.Height));
        Assert.Equal([0], layout.ColumnOrigins);
        Assert.Equal(5, layout.Rows);
        Assert.All(Coverage(layout), c => Assert.True(c >= 1));
        var tiny = spec.Layout(10, 10);
        Assert.Equal((224, 224, 1), (tiny.Width, tiny.Height, tiny.Count));
        Assert.Equal(new EdgePatchCore.Imaging.InputSpec { Width = 224, Height = 1000 }, spec.MapGeometry(100, 1000));
    }

    [Fact]
    public void Scale_applies_before_the_layout()
    {
        var layout = new TilingSpec { TileSize = 224, Overlap = 16, Scale = 0.5f }.Layout(3200, 2400);
        Assert.Equal((1600, 1200, 8, 6), (layout.Width, layout.Height, layout.Columns, layout.Rows));
    }

    [Theory]
    [InlineData(16, 16, 1f)]
    [InlineData(2048, 16, 1f)]
    [InlineData(224, 113, 1f)]
    [InlineData(224, -1, 1f)]
    [InlineData(224, 16, 0f)]
    [InlineData(224, 16, float.NaN)]
    public void Out_of_range_specs_are_refused_with_the_reason(int tile, int overlap, float scale)
    {
        var e = Assert.Throws<ArgumentException>(() => new TilingSpec { TileSize = tile, Overlap = overlap, Scale = scale }.Validate());
        Assert.Matches("tile size|overlap|scale", e.Message);
    }
}
