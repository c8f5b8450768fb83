using EdgePatchCore.Agent.Cameras;

namespace EdgePatchCore.Tests.Cameras;

/// <summary>The Aravis binding against Aravis's in-process simulated camera (no network): settings, frames, errors. (Its
/// stream ignores TriggerSoftware: software triggers are tested against the GigE Vision simulator, GenICamAgentTests.)</summary>
[Trait("Category", IntegrationTests.Category)] // needs Debian's libaravis-0.8-0
public sealed class GenICamCameraTests
{
    [Fact]
    public void A_free_running_camera_delivers_RGB_frames_with_rising_frame_ids()
    {
        using var camera = GenICamCamera.OpenSimulated("binding-1");
        Assert.False(string.IsNullOrEmpty(camera.Model));
        camera.Configure(new CameraSettings { PixelFormat = "Mono8", Width = 320, Height = 240, FrameRate = 50 });
        Assert.Equal(("Mono8", 320, 240), (camera.PixelFormat, camera.Width, camera.Height));
        camera.Start(buffers: 4);
        var frames = new List<CameraFrame>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (frames.Count < 12 && DateTime.UtcNow < deadline)
            if (camera.Next(TimeSpan.FromMilliseconds(500)) is { } frame) frames.Add(frame);
        try
        {
            Assert.Equal(12, frames.Count); // more frames than buffers: each buffer went back to the stream
            Assert.All(frames, f => Assert.Null(f.Problem));
            Assert.All(frames, f => Assert.Equal((320, 240), (f.Image!.Width, f.Image.Height)));
            Assert.True(frames.Zip(frames.Skip(1)).All(p => p.Second.FrameId > p.First.FrameId), "frame ids rise");
            var pixel = frames[0].Image![100, 100];
            Assert.True(pixel.R == pixel.G && pixel.G == pixel.B, "Mono8 is grey in RGB");
            Assert.True(camera.Statistics().Completed >= 12);
        }
        finally { foreach (var f in frames) f.Image?.Dispose(); }
    }

    [Fact]
    public void A_setting_the_camera_refuses_is_a_clear_error()
    {
        using var camera = GenICamCamera.OpenSimulated("binding-3");
        var e = Assert.Throws<CameraException>(() => camera.Configure(new CameraSettings { PixelFormat = "YUV422Packed-not-there" }));
        Assert.StartsWith("setting PixelFormat to YUV422Packed-not-there: ", e.Message);
    }

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
