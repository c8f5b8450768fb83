using EdgePatchCore.Tiling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Tiling;

public class TiledFrameTests
{
    [Fact]
    public void Tiles_are_the_frames_pixels_at_their_origins_in_planar_rgb()
    {
        var rng = new Random(5);
        var pixels = Enumerable.Range(0, 500 * 300).Select(_ => new Rgb24((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256))).ToArray();
        using var image = Image.LoadPixelData<Rgb24>(pixels, 500, 300);
        using var frame = TiledFrame.From(image, new TilingSpec { TileSize = 224, Overlap = 16 });
        Assert.Same(image, frame.Scaled); // native pixels: no copy of the image
        int n = 224, plane = n * n, count = frame.Layout.Count;
        var inputs = new float[count * 3 * plane];
        frame.WriteTiles(0, count, inputs);
        for (int t = 0; t < count; t++)
        {
            var (x0, y0) = frame.Layout.Origin(t);
            foreach (var (x, y) in new[] { (0, 0), (223, 223), (17, 200), (111, 3) })
            {
                var p = pixels[(y0 + y) * 500 + x0 + x];
                Assert.Equal(p.R / 255f, inputs[t * 3 * plane + y * n + x], 6);
                Assert.Equal(p.G / 255f, inputs[t * 3 * plane + plane + y * n + x], 6);
                Assert.Equal(p.B / 255f, inputs[t * 3 * plane + 2 * plane + y * n + x], 6);
            }
        }
        // A later run of tiles lands at the start of the buffer.
        var one = new float[3 * plane];
        frame.WriteTiles(count - 1, 1, one);
        Assert.Equal(inputs.AsSpan((count - 1) * 3 * plane, 3 * plane).ToArray(), one);
        Assert.Throws<ArgumentOutOfRangeException>(() => frame.WriteTiles(count - 1, 2, inputs));
    }

    [Fact]
    public void A_scaled_frame_is_resized_once_and_keeps_the_frame_size()
    {
        using var image = new Image<Rgb24>(1000, 600, new Rgb24(10, 20, 30));
        using var frame = TiledFrame.From(image, new TilingSpec { TileSize = 224, Overlap = 16, Scale = 0.5f });
        Assert.NotSame(image, frame.Scaled);
        Assert.Equal((500, 300), (frame.Scaled.Width, frame.Scaled.Height));
        Assert.Equal((1000, 600), (frame.FrameWidth, frame.FrameHeight));
    }
}
