using System.Diagnostics;
using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Imaging;

/// <summary>Images made to hurt the decoder or to be scored as something they are not: each is refused alone, quickly, with a reason.</summary>
public class HostileImageTests
{
    private static readonly InputSpec Input = new();

    [Theory]
    [InlineData(1, 49_999_999, "over the limit of 16384 x 16384")]  // few pixels, absurd height (resizing it would ask for 3.2 GB)
    [InlineData(4000, 1, "aspect ratio 4000 over the limit of 16")] // a center-crop model would need 1.2 GB for it
    [InlineData(20000, 1, "over the limit of 16384 x 16384")]
    [InlineData(9000, 500, "aspect ratio 18 over the limit of 16")]
    public void Extreme_shapes_are_refused_from_the_header_alone(int width, int height, string reason)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<ImageLoadException>(() => new ImageLoader().Decode(TestData.PngHeader(width, height), "frame.png"));
        Assert.Contains(reason, e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "a refused header must not allocate pixel buffers");
    }

    [Fact]
    public void Limits_on_each_side_and_on_pixels_follow_the_configured_camera()
    {
        var camera = new ImageLoader(new ImageLimits { MaxWidth = 1600, MaxHeight = 1200, MaxPixels = 1600 * 1200 });
        Assert.Contains("over the limit of 1600 x 1200", Assert.Throws<ImageLoadException>(() => camera.Decode(TestData.PngHeader(1601, 100), "f.png")).Message);
        Assert.Contains("over the limit of 1600 x 1200", Assert.Throws<ImageLoadException>(() => camera.Decode(TestData.PngHeader(100, 1201), "f.png")).Message);
        using var ok = camera.Decode(CraftedImages.NoisePng(1600, 1200), "f.png");
        Assert.Equal(1600, ok.Width);
    }

    [Fact]
    public void A_progressive_jpeg_of_thousands_of_scans_is_refused_before_it_is_decoded()
    {
        var bomb = CraftedImages.ProgressiveScanBomb(7000, 7000, 2000);
        Assert.True(bomb.Length < 300_000, $"{bomb.Length} bytes");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ImageLoadException>(() => new ImageLoader().Decode(bomb, "bomb.jpg"));
        Assert.Contains("more than 64 scans", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void A_decode_that_outlasts_its_time_budget_is_abandoned()
    {
        // With the scan limit lifted, the budget is what stops it (the full decode takes seconds).
        var loader = new ImageLoader(new ImageLimits { MaxJpegScans = 100_000, DecodeTimeout = TimeSpan.FromMilliseconds(200) });
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ImageLoadException>(() => loader.Decode(CraftedImages.ProgressiveScanBomb(7000, 7000, 2000), "bomb.jpg"));
        Assert.Contains("decoding took longer than 200 ms", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void Files_cut_short_in_their_image_data_are_refused_not_padded_and_scored()
    {
        var loader = new ImageLoader();
        var jpeg = CraftedImages.NoiseJpeg(256, 256);
        using (var whole = loader.Decode(jpeg, "whole.jpg")) Assert.Equal(256, whole.Width);
        // ImageSharp on its own decodes the cut file without complaint (grey where the data is missing).
        using (var padded = Image.Load<Rgb24>(CraftedImages.CutInScanData(jpeg))) Assert.Equal(256, padded.Width);
        Assert.Contains("image data ends before the end-of-image marker",
                        Assert.Throws<ImageLoadException>(() => loader.Decode(CraftedImages.CutInScanData(jpeg), "cut.jpg")).Message);
        Assert.Contains("PNG image data ends before its IEND chunk",
                        Assert.Throws<ImageLoadException>(() => loader.Decode(CraftedImages.PngCutShort(CraftedImages.NoisePng(128, 128)), "cut.png")).Message);
        using var bmpImage = new Image<Rgb24>(64, 64, new Rgb24(9, 9, 9));
        using var bmp = new MemoryStream();
        bmpImage.SaveAsBmp(bmp);
        Assert.Contains("BMP pixel data ends early",
                        Assert.Throws<ImageLoadException>(() => loader.Decode(bmp.ToArray()[..^500], "cut.bmp")).Message);
    }

    [Fact]
    public void Only_the_first_page_of_a_multi_page_tiff_is_decoded()
    {
        var tiff = CraftedImages.MultiPageTiff(pages: 12, width: 1000, height: 1000);
        using var image = new ImageLoader().Decode(tiff, "scan.tif");
        Assert.Single(image.Frames);
        Assert.Equal(new Rgb24(10, 10, 10), image[500, 500]); // page 1's grey
    }

    [Fact]
    public void Every_decoder_failure_is_an_image_load_exception_naming_the_frame()
    {
        var loader = new ImageLoader();
        var png = CraftedImages.NoisePng(64, 64);
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            var damaged = (byte[])png.Clone();
            for (int k = 0; k < 8; k++) damaged[33 + rng.Next(damaged.Length - 45)] = (byte)rng.Next(256); // flip bytes after IHDR, keep IEND
            try
            {
                using var image = loader.Decode(damaged, $"fuzz{i}.png");
            }
            catch (ImageLoadException e)
            {
                Assert.Contains($"fuzz{i}.png", e.Message);
            }
        }
    }
}
