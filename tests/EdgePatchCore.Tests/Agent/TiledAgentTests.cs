using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tests.Cli;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// A small tiled model: 1280 x 960 sheet frames scaled by 0.5 before 224-pixel tiles (3 x 3 tiles), so that a map
/// pixel is two frame pixels and a region in the wrong coordinates would show.
/// </summary>
public sealed class SmallTiledFixture : IDisposable
{
    public TempFolder Folder { get; } = new();
    public string Model => Folder.File("sheet-small.pcb");
    public IReadOnlyList<string> Pngs { get; }
    public IReadOnlyList<string> Jpegs { get; }
    /// <summary>The mask of each frame (null for a good one).</summary>
    public IReadOnlyList<string?> Masks { get; }

    public SmallTiledFixture()
    {
        string data = Folder.File("data");
        new SheetGenerator(new SheetOptions { Width = 1280, Height = 960, TrainCount = 6, TestGoodCount = 1, TestPerDefect = 1, Seed = 4 }).Write(data);
        var r = TrainerRunner.Run("build", "--product", "sheet", "--data", data, "--out", Model, "--tile", "224", "--scale", "0.5", "--coreset", "0.05", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        string[] types = ["good", "pit", "scratch", "stain", "burr"];
        Pngs = types.Select(t => Path.Combine(data, "test", t, "0000.png")).ToList();
        Masks = types.Select(t => t == "good" ? null : Path.Combine(data, "ground_truth", t, "0000_mask.png")).ToList();
        Jpegs = Pngs.Select((p, i) =>
        {
            string target = Folder.File($"frame{i}.jpg");
            using var image = Image.Load(p);
            image.SaveAsJpeg(target, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 95 });
            return target;
        }).ToList();
    }

    public void Dispose() => Folder.Dispose();
}

/// <summary>A tiled model in the agent: frames from every source kind, the trainer's scores, regions in frame pixels.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class TiledAgentTests(AgentFixture agent, SmallTiledFixture tiled) : IClassFixture<SmallTiledFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_tiled_model_scores_frames_from_every_source_with_regions_in_frame_pixels()
    {
        using var work = new TempFolder();
        var pngScores = agent.TrainerScores(tiled.Model, tiled.Pngs);
        var jpegScores = agent.TrainerScores(tiled.Model, tiled.Jpegs);
        // Every defect frame judged a defect, so that each has a region to check.
        double threshold = 0.999 * tiled.Pngs.Zip(tiled.Masks).Where(p => p.Second is not null)
            .Select(p => Math.Min(pngScores[p.First], jpegScores[tiled.Jpegs[tiled.Pngs.ToList().IndexOf(p.First)]])).Min();

        string stream = work.File("camera.mjpeg");
        SnapshotCamera.WriteMjpegStream(stream, tiled.Jpegs);
        using var camera = new SnapshotCamera(File.ReadAllBytes(tiled.Jpegs[1]), frames: 2);

        Directory.CreateDirectory(work.File("inbox"));
        var config = agent.Config("tiled-test", tiled.Model, work.File("state"));
        config.Remove("Agent:Artifact");
        config["Agent:Models:0:Artifact"] = tiled.Model;
        config["Agent:Models:0:Threshold"] = threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        config["Agent:Sources:Folder:Path"] = work.File("inbox");
        config["Agent:Sources:Folder:SettleMilliseconds"] = "100";
        config["Agent:Sources:Mqtt:Topic"] = "plant/line9/camera/image";
        config["Agent:Sources:Http:Url"] = camera.Url;
        config["Agent:Sources:Http:IntervalMilliseconds"] = "300";
        config["Agent:Sources:Mjpeg:Command"] = "cat";
        config["Agent:Sources:Mjpeg:Arguments"] = stream;
        config["Agent:Sources:Mjpeg:RestartSeconds"] = "3600";
        config["Agent:Pipeline:QueueCapacity"] = "64";
        await using var probe = new MqttProbe(agent.Broker.Port, "edgepatchcore/tiled-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Count > 0, Patience));
        for (int i = 0; i < tiled.Pngs.Count; i++)
        {
            TestData.DropCopy(work.File("inbox"), $"f{i}.png", tiled.Pngs[i]);
            await probe.PublishAsync("plant/line9/camera/image", File.ReadAllBytes(tiled.Pngs[i]), ("frameId", $"mqtt-{i}"));
        }
        int expected = 3 * tiled.Pngs.Count + 2;
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= expected, Patience), $"{probe.Verdicts().Count} of {expected} verdicts");
        await host.StopAsync();

        var verdicts = probe.Verdicts();
        Assert.Equal(["folder", "http", "mjpeg", "mqtt"], verdicts.Select(v => v.Source).Distinct().Order());
        foreach (var v in verdicts)
        {
            Assert.NotEqual(Verdict.Error, v.Result);
            int index = v.Source switch
            {
                "folder" => int.Parse(v.FrameId[1..^4]),
                "mqtt" => int.Parse(v.FrameId["mqtt-".Length..]),
                "http" => 1,
                _ => (int)((long.Parse(v.FrameId.Split('-')[^1]) - 1) % tiled.Pngs.Count), // mjpeg-...-n counts from 1
            };
            bool jpeg = v.Source is "http" or "mjpeg";
            AgentSourceTests.AssertClose(jpeg ? jpegScores[tiled.Jpegs[index]] : pngScores[tiled.Pngs[index]], v.Score!.Value);
            if (tiled.Masks[index] is not { } mask) continue;
            Assert.Equal(Verdict.Defect, v.Result);
            var region = v.Region ?? throw new Xunit.Sdk.XunitException($"{v.FrameId}: a defect without a region");
            var truth = Bounds(mask);
            Assert.True(region.X >= 0 && region.Y >= 0 && region.X + region.Width <= 1280 && region.Y + region.Height <= 960, $"{v.FrameId}: {region} outside the frame");
            Assert.True(region.X < truth.X + truth.Width + 8 && truth.X < region.X + region.Width + 8
                        && region.Y < truth.Y + truth.Height + 8 && truth.Y < region.Y + region.Height + 8,
                        $"{v.FrameId} ({v.Source}): region {region} misses the defect at {truth} (frame pixels)");
        }
    }

    private static VerdictRegion Bounds(string maskPath)
    {
        using var mask = Image.Load<L8>(maskPath);
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        for (int y = 0; y < mask.Height; y++)
            for (int x = 0; x < mask.Width; x++)
                if (mask[x, y].PackedValue > 127) { x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); }
        Assert.True(x1 >= 0, $"{maskPath} is empty");
        return new VerdictRegion(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }
}
