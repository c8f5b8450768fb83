using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Imaging;

public class ImageLoaderTests
{
    private static readonly InputSpec Small = new() { Width = 16, Height = 16 };

    [Theory]
    [InlineData("png")]
    [InlineData("bmp")]
    [InlineData("tiff")]
    [InlineData("jpg")]
    public void Reads_each_supported_format(string ext)
    {
        using var dir = new TempFolder();
        string path = dir.File("img." + ext);
        using (var img = new Image<Rgb24>(32, 32, new Rgb24(200, 100, 50)))
        {
            switch (ext)
            {
                case "png": img.SaveAsPng(path); break;
                case "bmp": img.SaveAsBmp(path); break;
                case "tiff": img.SaveAsTiff(path); break;
                default: img.SaveAsJpeg(path); break;
            }
        }
        var chw = new float[3 * 16 * 16];
        new ImageLoader().LoadInput(path, Small, chw);
        float tolerance = ext == "jpg" ? 4 / 255f : 1e-6f;
        Assert.Equal(200 / 255f, chw[0], tolerance);       // R plane first
        Assert.Equal(100 / 255f, chw[256], tolerance);     // then G
        Assert.Equal(50 / 255f, chw[512], tolerance);      // then B
    }

    [Fact]
    public void Grayscale_and_rgba_become_rgb()
    {
        using var dir = new TempFolder();
        using (var gray = new Image<L8>(20, 20, new L8(90))) gray.SaveAsPng(dir.File("g.png"));
        using (var rgba = new Image<Rgba32>(20, 20, new Rgba32(10, 20, 30, 40))) rgba.SaveAsPng(dir.File("a.png"));
        var chw = new float[3 * 256];
        var loader = new ImageLoader();
        loader.LoadInput(dir.File("g.png"), Small, chw);
        Assert.All(new[] { chw[0], chw[256], chw[512] }, v => Assert.Equal(90 / 255f, v, 1e-6f));
        loader.LoadInput(dir.File("a.png"), Small, chw);
        Assert.Equal(10 / 255f, chw[0], 1e-6f);
        Assert.Equal(30 / 255f, chw[512], 1e-6f); // alpha ignored
    }

    [Fact]
    public void Resize_modes_put_content_where_expected()
    {
        // 40 x 20 image: left half red, right half blue.
        using var img = new Image<Rgb24>(40, 20);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 40; x++) img[x, y] = x < 20 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
        var spec = new InputSpec { Width = 20, Height = 20 };
        using (var stretched = ImageLoader.Resize(img, spec with { Mode = ResizeMode.Stretch }))
        {
            Assert.Equal(new Rgb24(255, 0, 0), stretched[2, 10]);
            Assert.Equal(new Rgb24(0, 0, 255), stretched[17, 10]);
        }
        using (var boxed = ImageLoader.Resize(img, spec with { Mode = ResizeMode.Letterbox }))
        {
            Assert.Equal(new Rgb24(0, 0, 0), boxed[10, 1]);   // padding above
            Assert.Equal(new Rgb24(255, 0, 0), boxed[2, 10]);
        }
        using (var cropped = ImageLoader.Resize(img, spec with { Mode = ResizeMode.CenterCrop, ResizeTo = 20 }))
        {
            // 40x20 -> shorter side 20 (no change) -> centre 20x20 spans x 10..30: left half red, right half blue.
            Assert.Equal(new Rgb24(255, 0, 0), cropped[3, 10]);
            Assert.Equal(new Rgb24(0, 0, 255), cropped[16, 10]);
        }
    }

    [Fact]
    public void Bad_files_are_refused_with_a_reason()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("zero.png"), []);
        File.WriteAllText(dir.File("notes.png"), "this is not an image");
        using (var img = new Image<Rgb24>(64, 64, new Rgb24(1, 2, 3))) img.SaveAsJpeg(dir.File("ok.jpg"));
        var jpeg = File.ReadAllBytes(dir.File("ok.jpg"));
        File.WriteAllBytes(dir.File("truncated.jpg"), jpeg[..(jpeg.Length / 3)]);
        var loader = new ImageLoader();
        var buffer = new float[3 * 256];
        Assert.Contains("empty", Assert.Throws<ImageLoadException>(() => loader.LoadInput(dir.File("zero.png"), Small, buffer)).Message);
        Assert.Contains("not a PNG", Assert.Throws<ImageLoadException>(() => loader.LoadInput(dir.File("notes.png"), Small, buffer)).Message);
        Assert.Contains("truncated.jpg", Assert.Throws<ImageLoadException>(() => loader.LoadInput(dir.File("truncated.jpg"), Small, buffer)).Message);
        Assert.Contains("no such", Assert.Throws<ImageLoadException>(() => loader.LoadInput(dir.File("missing.png"), Small, buffer)).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Huge_dimensions_are_refused_before_decoding()
    {
        var header = TestData.PngHeader(30000, 30000);
        var e = Assert.Throws<ImageLoadException>(() => new ImageLoader().Decode(header, "huge.png"));
        Assert.Contains("30000 x 30000", e.Message);
    }
}
