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
}
