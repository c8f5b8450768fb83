using EdgePatchCore.Agent.Cameras;

namespace EdgePatchCore.Tests.Cameras;

/// <summary>A camera's raw pixels into RGB (managed code only: no Aravis needed).</summary>
public sealed class PixelConversionTests
{
    [Theory]
    [InlineData("BayerRG8")]
    [InlineData("BayerGR8")]
    [InlineData("BayerGB8")]
    [InlineData("BayerBG8")]
    public void Bayer_mosaics_of_a_flat_colour_demosaic_to_that_colour(string format)
    {
        // A flat (R, G, B) = (200, 120, 40) scene seen through the colour filter array.
        int w = 6, h = 4;
        string layout = format[5..7] + (format[5..7] switch { "RG" => "GB", "GR" => "BG", "GB" => "RG", _ => "GR" });
        var mosaic = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                mosaic[y * w + x] = layout[(y & 1) * 2 + (x & 1)] switch { 'R' => 200, 'G' => 120, _ => 40 };
        using var image = PixelConversion.ToRgb(mosaic, w, h, PixelConversion.Formats[format]);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                Assert.Equal(new SixLabors.ImageSharp.PixelFormats.Rgb24(200, 120, 40), image[x, y]);
    }

    [Fact]
    public void A_short_buffer_or_an_unknown_format_is_refused()
    {
        Assert.Contains("needs 12 bytes", Assert.Throws<CameraException>(() => PixelConversion.ToRgb(new byte[11], 4, 3, PixelConversion.Formats["Mono8"]))
            .Message);
        Assert.Contains("not supported", Assert.Throws<CameraException>(() => PixelConversion.ToRgb(new byte[24], 4, 3, 0x01100007)).Message);
    }
}
