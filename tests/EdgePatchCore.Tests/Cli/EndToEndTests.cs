using SixLabors.ImageSharp.Processing;
using System.Text.Json;
using Microsoft.Playwright;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Trainer;
using SixLabors.ImageSharp;

namespace EdgePatchCore.Tests.Cli;

/// <summary>
/// A small synthetic gasket set with a corrupt JPEG, a zero-byte PNG and a text file among the training
/// images, built once with the real backbone and shared by the tests below.
/// </summary>
public sealed class GasketFixture : IDisposable
{
    public TempFolder Folder { get; } = new();
    public string Data => Folder.File("gasket");
    public string Artifact => Folder.File("gasket.pcb");
    public RunResult Build { get; }

    public GasketFixture()
    {
        new GasketGenerator(new GasketOptions { Seed = 3, TrainCount = 30, TestGoodCount = 8, TestPerDefect = 4 }).Write(Data);
        string train = Path.Combine(Data, "train", "good");
        var jpeg = File.ReadAllBytes(Path.Combine(train, "0000.png"));
        File.WriteAllBytes(Path.Combine(train, "zz_corrupt.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, .. jpeg[100..400]]);
        File.WriteAllBytes(Path.Combine(train, "zz_empty.png"), []);
        File.WriteAllText(Path.Combine(train, "zz_readme.txt"), "camera notes");
        Build = TrainerRunner.Run("build", "--product", "gasket", "--data", Data, "--out", Artifact, "--device", "cpu");
    }

    public void Dispose() => Folder.Dispose();
}

public class EndToEndTests(GasketFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<GasketFixture>
{
    /// <summary>
    /// The evaluation report opens in under 2 s in a running browser. Also times every page named in
    /// EDGEPATCHCORE_TIMED_PAGES (paths separated by ':'), e.g. the MTD report of docs/ACCURACY.md, which must also stay under 20 MB.
    /// </summary>
    [Fact]
    [Trait("Category", IntegrationTests.Category)] // needs chromium
    public async Task The_html_report_opens_in_under_two_seconds()
    {
        string html = fixture.Folder.File("timed-report.html");
        var r = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--device", "cpu", "--report", html);
        Assert.True(r.ExitCode == 0, r.Error);
        string blank = fixture.Folder.File("blank.html");
        File.WriteAllText(blank, "<!DOCTYPE html><title>blank</title>");
        var (playwright, browser) = await Browser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var pages = (Environment.GetEnvironmentVariable("EDGEPATCHCORE_TIMED_PAGES") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        double blankMs = await Browser.OpenTimeAsync(browser, blank);
        foreach (var page in pages.Prepend(html))
        {
            double ms = await Browser.OpenTimeAsync(browser, Path.GetFullPath(page));
            long bytes = new FileInfo(page).Length;
            output.WriteLine($"{page}: {bytes / 1e6:F1} MB, opens in {ms:F0} ms (median of 3; a blank page {blankMs:F0} ms)");
            Assert.True(ms < 2000, $"{page} took {ms:F0} ms to open");
            Assert.True(bytes < 20_000_000, $"{page} is {bytes / 1e6:F1} MB");
            if (Environment.GetEnvironmentVariable("EDGEPATCHCORE_SCREENSHOTS") is { Length: > 0 } shots)
            {
                var tab = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 1000 } });
                await tab.GotoAsync(new Uri(Path.GetFullPath(page)).AbsoluteUri);
                await tab.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, Path.GetFileNameWithoutExtension(page) + ".png") });
            }
        }
    }

    [Fact]
    public void Build_skips_and_lists_unreadable_training_files()
    {
        var r = fixture.Build;
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("skipped 3 unreadable file(s)", r.Out);
        Assert.Contains("zz_corrupt.jpg", r.Out);
        Assert.Contains("zz_empty.png", r.Out);
        Assert.Contains("zz_readme.txt", r.Out);
        var artifact = ArtifactFile.Read(fixture.Artifact);
        // 33 files, 3 of them bad: all 30 good ones in the bank, and each scored out of fold for the threshold.
        Assert.Equal(30, artifact.Content.Manifest.TrainingImageCount);
        Assert.Equal(30, artifact.Content.Manifest.CalibrationImageCount);
        Assert.Equal(artifact.Content.Manifest.TrainingPatchCount, artifact.Content.Manifest.TrainingImageCount * 784L);
        Assert.Equal((int)Math.Round(artifact.Content.Manifest.TrainingPatchCount * 0.1), artifact.Content.Bank.Rows);
        // 30 scores at a 1% target: floor(0.3) = 0 may reach the threshold, so it lies above the largest.
        Assert.True(artifact.Content.Scoring.Threshold > artifact.Content.Calibration!.SortedScores[^1]);
        // ... which the build says, with what the target then means.
        Assert.Contains("warning: the threshold comes from 30 scores of good images, fewer than 50", r.Out + r.Error);
        Assert.Equal((256, 256), (artifact.Content.Manifest.FrameWidth, artifact.Content.Manifest.FrameHeight)); // the training frames' size
    }

    [Fact]
    public void Evaluating_images_of_another_size_warns_that_the_scores_do_not_carry_over()
    {
        using var other = new TempFolder();
        Directory.CreateDirectory(other.File("test/good"));
        Directory.CreateDirectory(other.File("train/good")); // the MVTec layout
        foreach (var (file, i) in Directory.GetFiles(Path.Combine(fixture.Data, "test", "good")).Order().Take(3).Select((f, i) => (f, i)))
        {
            using var image = SixLabors.ImageSharp.Image.Load(file);
            image.Mutate(x => x.Resize(400, 300));
            image.SaveAsPng(other.File($"test/good/{i}.png"));
        }
        var r = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", other.Path, "--device", "cpu");
        Assert.Contains("built on 256 x 256 images, but these test images are 400 x 300: another product or camera?", r.Out + r.Error);
        var same = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--device", "cpu");
        Assert.DoesNotContain("another product or camera", same.Out + same.Error);
    }

    [Fact]
    public void Strict_build_fails_on_the_first_bad_file_and_writes_nothing()
    {
        string output = fixture.Folder.File("strict.pcb");
        var r = TrainerRunner.Run("build", "--product", "gasket", "--data", fixture.Data, "--out", output, "--strict", "--device", "cpu");
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("--strict", r.Error);
        Assert.Contains("zz_", r.Error);
        r.AssertNoStackTrace();
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Evaluate_shows_what_the_review_band_routes_to_review_and_the_closest_calls()
    {
        string json = fixture.Folder.File("eval-review.json");
        var r = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--json", json, "--device", "cpu", "--review-rate", "0.3");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("REVIEW band [", r.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var review = doc.RootElement.GetProperty("review");
        var artifact = ArtifactFile.Read(fixture.Artifact).Content;
        float threshold = artifact.Scoring.Threshold, from = review.GetProperty("from").GetSingle();
        Assert.Equal(EdgePatchCore.Calibration.ReviewBand.Threshold(artifact.Calibration, threshold, 0.3), from);
        Assert.True(from < threshold);
        // The closest calls are the images next to the threshold, each side in order; the band counts agree with them.
        var below = review.GetProperty("below").EnumerateArray().Select(c => c.GetProperty("score").GetSingle()).ToList();
        var above = review.GetProperty("above").EnumerateArray().Select(c => c.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(5, below.Count);
        Assert.Equal(5, above.Count);
        Assert.All(below, v => Assert.True(v < threshold));
        Assert.All(above, v => Assert.True(v >= threshold));
        Assert.Equal(below.OrderDescending(), below);
        Assert.Equal(above.Order(), above);
        int inBand = review.GetProperty("goodInBand").GetInt32() + review.GetProperty("defectsInBand").GetInt32();
        Assert.True(inBand >= below.Count(v => v >= from), "every close call inside the band is counted");
        Assert.Equal(8, review.GetProperty("good").GetInt32());
        var none = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--device", "cpu", "--review-rate", "0");
        Assert.DoesNotContain("REVIEW band", none.Out);
    }

    [Fact]
    public void Evaluate_prints_the_operating_point_then_the_table_and_writes_the_json()
    {
        string json = fixture.Folder.File("eval.json");
        var r = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--json", json, "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("image AUROC", r.Out);
        foreach (var d in GasketGenerator.DefectTypes) Assert.Contains(GasketGenerator.FolderName(d), r.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("gasket", root.GetProperty("product").GetString());
        Assert.Equal(8, root.GetProperty("images").GetProperty("good").GetInt32());
        Assert.Equal(20, root.GetProperty("images").GetProperty("defective").GetInt32());
        // Even 25 training images separate these defects well; the full demo reaches 0.99+.
        Assert.InRange(root.GetProperty("imageAuroc").GetDouble(), 0.9, 1.0);
        Assert.InRange(root.GetProperty("pixelAuroc").GetDouble(), 0.9, 1.0);
        Assert.InRange(root.GetProperty("pro").GetDouble(), 0.5, 1.0);
        Assert.True(root.GetProperty("f1Threshold").GetDouble() > 0);
        Assert.Equal(5, root.GetProperty("perDefect").EnumerateObject().Count());
        Assert.Equal(4, root.GetProperty("perDefect").GetProperty("cut").GetProperty("count").GetInt32());
        Assert.True(root.GetProperty("timing").GetProperty("imagesPerSecond").GetDouble() > 0);
        Assert.Equal(ArtifactFile.Read(fixture.Artifact).Id, root.GetProperty("artifact").GetProperty("id").GetString());
        // The operating point at the calibrated threshold comes first, in the table and in the JSON.
        Assert.True(r.Out.IndexOf("at the artifact's calibrated threshold", StringComparison.Ordinal) < r.Out.IndexOf("image AUROC", StringComparison.Ordinal));
        var at = root.GetProperty("atThreshold");
        Assert.Equal(ArtifactFile.Read(fixture.Artifact).Content.Scoring.Threshold, at.GetProperty("threshold").GetSingle());
        Assert.Equal(8, at.GetProperty("good").GetInt32());
        Assert.Equal(at.GetProperty("falseRejects").GetInt32() / 8.0, at.GetProperty("falseRejectRate").GetDouble(), 9);
        Assert.Equal(20, at.GetProperty("defective").GetInt32());
        Assert.Equal(5, at.GetProperty("perDefect").EnumerateObject().Count());
        Assert.Equal("F1-optimal", root.GetProperty("atF1Threshold").GetProperty("label").GetString());
        Assert.Contains("which a plant does not have", r.Out);
    }

    [Fact]
    [Trait("Category", IntegrationTests.Category)] // needs chromium
    public async Task The_html_report_is_self_contained_and_shows_every_false_reject_and_escape_in_a_real_browser()
    {
        string html = fixture.Folder.File("report.html"), json = fixture.Folder.File("report.json");
        var r = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--device", "cpu", "--report", html, "--json", json);
        Assert.True(r.ExitCode == 0, r.Error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var at = doc.RootElement.GetProperty("atThreshold");
        int falseRejects = at.GetProperty("falseRejects").GetInt32(), escapes = at.GetProperty("escapes").GetInt32();

        var (playwright, browser) = await Browser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await Browser.OpenSelfContainedAsync(browser, html);
        Assert.Equal(3, await page.Locator("figure svg").CountAsync());
        // The model card, the operating point first, the gallery sections with one tile per image.
        Assert.Contains(ArtifactFile.Read(fixture.Artifact).Id, await page.Locator("table.card").InnerTextAsync());
        string body = await page.InnerTextAsync("body");
        Assert.True(body.IndexOf("calibrated threshold", StringComparison.Ordinal) < body.IndexOf("Threshold-free metrics", StringComparison.Ordinal));
        Assert.Equal(falseRejects, await page.Locator("[data-section=gallery-false-rejects] .tile").CountAsync());
        Assert.Equal(escapes, await page.Locator("[data-section=gallery-escapes] .tile").CountAsync());
        Assert.Equal(8, await page.Locator("[data-section=gallery-top-good] .tile").CountAsync()); // 8 good test images
        Assert.Equal(12, await page.Locator("[data-section=gallery-top-defects] .tile").CountAsync());

        // A thumbnail opens its full-size view, and the view closes again.
        var firstDefect = page.Locator("[data-section=gallery-top-defects] .tile").First;
        Assert.False(await firstDefect.Locator(".full").IsVisibleAsync());
        await firstDefect.Locator("img.thumb").ClickAsync();
        Assert.True(await firstDefect.Locator(".full").IsVisibleAsync());
        var full = firstDefect.Locator(".full img").Nth(1);
        await full.EvaluateAsync("i => i.complete ? true : new Promise(done => i.onload = done)"); // loaded when first shown
        Assert.True(await full.EvaluateAsync<int>("i => i.naturalWidth") >= 224);
        await firstDefect.Locator(".full a.close").ClickAsync();
        Assert.False(await firstDefect.Locator(".full").IsVisibleAsync());
    }

    [Fact]
    [Trait("Category", IntegrationTests.Category)] // needs chromium
    public async Task The_build_report_shows_the_threshold_tail_the_selection_the_phases_and_the_skipped_files()
    {
        string output = fixture.Folder.File("reported.pcb"), html = fixture.Folder.File("build.html");
        var r = TrainerRunner.Run("build", "--product", "gasket", "--data", fixture.Data, "--out", output, "--device", "cpu", "--report", html);
        Assert.True(r.ExitCode == 0, r.Error);
        var (playwright, browser) = await Browser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await Browser.OpenSelfContainedAsync(browser, html);
        Assert.Equal(2, await page.Locator("figure svg").CountAsync()); // the threshold tail and the coverage radius
        Assert.Contains(ArtifactFile.Read(output).Id, await page.Locator("table.card").InnerTextAsync());
        Assert.Contains("30 scores of good images the bank had not seen (out of fold, 5 folds)", await page.InnerTextAsync("#threshold + p"));
        Assert.Equal(5 + 1, await page.Locator("#folds + table tr").CountAsync());
        string phases = await page.InnerTextAsync("#phases + table");
        foreach (var phase in new[] { "embedding", "coreset selection", "cross-fitting banks", "neighbour table", "out-of-fold scores", "total" })
            Assert.Contains(phase, phases);
        // Each phase's own peak resident memory, in GiB: more than the runtime alone, less than the machine.
        var rows = await page.Locator("#phases + table tr").AllInnerTextsAsync();
        foreach (var row in rows.Skip(1))
            Assert.InRange(double.Parse(row.Split('\t')[^1], System.Globalization.CultureInfo.InvariantCulture), 0.02, 24);
        string skipped = await page.InnerTextAsync("#skipped + table");
        foreach (var file in new[] { "zz_corrupt.jpg", "zz_empty.png", "zz_readme.txt" }) Assert.Contains(file, skipped);
    }

    [Fact]
    public void The_sweep_measures_each_point_times_them_in_one_pass_and_keeps_what_it_measured()
    {
        string output = fixture.Folder.File("sweep");
        var r = TrainerRunner.Run("bench", "sweep", "--data", fixture.Data, "--out", output, "--points", "224-c01,224-c10-d384",
                                  "--timing-frames", "3", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        var table = File.ReadAllLines(Path.Combine(output, "sweep.md"));
        Assert.Equal(4, table.Length); // header, separator, two points
        Assert.Contains(table, l => l.StartsWith("| 224-c10-d384 |") && l.Contains("x 384 |"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(output, "pareto.png"))[..4]);
        foreach (var point in new[] { "224-c01", "224-c10-d384" })
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, point + ".json")));
            Assert.InRange(json.RootElement.GetProperty("imageAuroc").GetDouble(), 0.5, 1.0);
            Assert.True(json.RootElement.GetProperty("medianMs").GetDouble() > 0);
        }

        // A second run keeps the measured points and only times them again.
        r = TrainerRunner.Run("bench", "sweep", "--data", fixture.Data, "--out", output, "--points", "224-c01", "--timing-frames", "2", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("224-c01: measured before", r.Out);
        r = TrainerRunner.Run("bench", "sweep", "--data", fixture.Data, "--out", output, "--points", "999-c99");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        r.AssertNoStackTrace();
    }

    [Fact]
    [Trait("Category", IntegrationTests.Category)] // needs python3
    public void Pixel_metrics_under_both_mask_protocols_match_an_independent_python_implementation()
    {
        // tests/metrics/pixel_metrics.py recomputes pixel AUROC, PRO and the region count from the very maps and
        // masks evaluate used (--dump-maps), written from the MVTec AD evaluation's definitions, standard library only.
        string json = fixture.Folder.File("eval-both.json"), dump = fixture.Folder.File("dump");
        var r = TrainerRunner.Run("evaluate", fixture.Artifact, "--data", fixture.Data, "--json", json, "--device", "cpu",
                                  "--mask-protocol", "both", "--dump-maps", dump);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("masks: official", r.Out);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var pixel = report.RootElement.GetProperty("pixelMetrics").EnumerateArray().ToDictionary(e => e.GetProperty("maskProtocol").GetString()!);
        Assert.Equal(["official", "ours"], pixel.Keys.Order());
        Assert.Equal(report.RootElement.GetProperty("pixelAuroc").GetDouble(), pixel["ours"].GetProperty("pixelAuroc").GetDouble());
        // Fully covered pixels are a subset of half covered ones: the official masks are never larger.
        Assert.True(pixel["official"].GetProperty("regions").GetInt32() > 0);

        string script = Path.Combine(AppContext.BaseDirectory, "metrics", "pixel_metrics.py");
        var start = new System.Diagnostics.ProcessStartInfo("python3", [script, dump]) { RedirectStandardOutput = true, RedirectStandardError = true };
        System.Diagnostics.Process python;
        try { python = System.Diagnostics.Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException("python3 is needed for this test (.ci/run installs it): " + e.Message); }
        string output = python.StandardOutput.ReadToEnd(), error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, error);
        using var independent = JsonDocument.Parse(output);
        foreach (var (protocol, ours) in pixel)
        {
            var theirs = independent.RootElement.GetProperty(protocol);
            Assert.Equal(ours.GetProperty("regions").GetInt32(), theirs.GetProperty("regions").GetInt32());
            Assert.Equal(ours.GetProperty("pixelAuroc").GetDouble(), theirs.GetProperty("pixelAuroc").GetDouble(), 9);
            Assert.Equal(ours.GetProperty("pro").GetDouble(), theirs.GetProperty("pro").GetDouble(), 9);
        }
    }

    [Fact]
    public void Score_prints_verdicts_writes_heatmaps_and_reports_bad_images()
    {
        string good = Path.Combine(fixture.Data, "test", "good", "0000.png");
        string cut = Path.Combine(fixture.Data, "test", "missing_chunk", "0000.png");
        string heat = fixture.Folder.File("heat.png");
        var r = TrainerRunner.Run("score", fixture.Artifact, good, cut, fixture.Folder.File("nope.png"), "--heatmap", heat, "--device", "cpu");
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode); // one image could not be read
        Assert.Contains("nope.png", r.Error);
        var lines = r.Out.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        float goodScore = ParseScore(lines[0]), defectScore = ParseScore(lines[1]);
        Assert.True(defectScore > goodScore, $"missing chunk {defectScore} should score above good {goodScore}");
        // At a threshold between the two, the verdicts follow.
        string mid = ((goodScore + defectScore) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        r = TrainerRunner.Run("score", fixture.Artifact, good, cut, "--threshold", mid, "--device", "cpu");
        Assert.Equal(0, r.ExitCode);
        lines = r.Out.Trim().Split('\n');
        Assert.EndsWith("ok", lines[0].Trim());
        Assert.EndsWith("defect", lines[1].Trim());
        using var image = Image.Load(fixture.Folder.File("heat_0000.png"));
        Assert.Equal((224, 224), (image.Width, image.Height));
    }

    private static float ParseScore(string line) =>
        float.Parse(line.Split('\t')[1].Replace("score ", ""), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Batch_scores_equal_one_at_a_time_scores()
    {
        var artifact = ArtifactFile.Read(fixture.Artifact);
        using var scorer = new EdgePatchCore.Scoring.PatchCoreScorer(artifact.Content,
            new EdgePatchCore.Devices.ExecutionDevice(EdgePatchCore.Devices.DeviceKind.Cpu));
        var files = new[] { "test/good/0001.png", "test/scratch/0000.png", "test/cut/0002.png" }
            .Select(f => Path.Combine(fixture.Data, f)).ToList();
        var loader = new EdgePatchCore.Imaging.ImageLoader();
        var batched = scorer.ScoreFiles(files, loader, batchSize: 3, (_, r) => Assert.Fail(r)).ToList();
        var single = scorer.ScoreFiles(files, loader, batchSize: 1, (_, r) => Assert.Fail(r)).ToList();
        Assert.Equal(3, batched.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(single[i].Index, batched[i].Index);
            Assert.Equal(single[i].Score.Score, batched[i].Score.Score, 1e-5f * single[i].Score.Score);
            Assert.Equal(single[i].Score.MaxPatchIndex, batched[i].Score.MaxPatchIndex);
            for (int p = 0; p < single[i].Score.AnomalyMap.Length; p += 101)
                Assert.Equal(single[i].Score.AnomalyMap[p], batched[i].Score.AnomalyMap[p], 1e-4f * single[i].Score.Score);
        }
    }

    /// <summary>
    /// The hot path allocates only what it hands back: per frame the patch scores and the anomaly map (and the
    /// small result object); buffers, tensors and bindings are made once. Measured over 10 frames after 3
    /// warm-up frames on the calling thread (other tests run in parallel in this process; the work handed to
    /// pool threads allocates nothing itself).
    /// </summary>
    [Theory]
    [InlineData(EdgePatchCore.Search.BankPrecision.Float32)]
    [InlineData(EdgePatchCore.Search.BankPrecision.Int8)]
    [InlineData(EdgePatchCore.Search.BankPrecision.Float16)]
    public void Scoring_a_frame_allocates_little_more_than_its_results(EdgePatchCore.Search.BankPrecision precision)
    {
        var artifact = ArtifactFile.Read(fixture.Artifact);
        using var scorer = new EdgePatchCore.Scoring.PatchCoreScorer(artifact.Content,
            new EdgePatchCore.Devices.ExecutionDevice(EdgePatchCore.Devices.DeviceKind.Cpu), precision);
        var frame = new float[scorer.Features.InputLength];
        new EdgePatchCore.Imaging.ImageLoader().LoadInput(Path.Combine(fixture.Data, "test/good/0000.png"), artifact.Content.Input, frame);
        for (int i = 0; i < 3; i++) scorer.Score(frame, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        EdgePatchCore.Scoring.ImageScore last = null!;
        for (int i = 0; i < 10; i++) last = scorer.Score(frame, 1)[0];
        double perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / 10.0;
        long results = 4L * (last.PatchScores.Length + last.AnomalyMap.Length);
        Assert.True(perFrame <= results + 8 * 1024, $"{perFrame:F0} bytes per frame, of which results {results}");
    }

    /// <summary>
    /// The scorer with each bank precision against float32 on real images of the test set, exhaustive search: int8 re-ranks its
    /// candidates exactly, so image and patch scores agree within 1e-5 relative; float16 rounds the bank to 11 significant bits,
    /// so they agree within 2e-3 relative, and the ranking of the images is the same. The bounded search (the default) gives
    /// the same image scores (s*, m* and Eq. 7 are exact); its other patch scores are upper bounds from cells that each
    /// precision's own GEMM chooses, so they are not compared here (the map's bound is docs/design.md's, "Bounded search").
    /// </summary>
    [Theory]
    [InlineData(EdgePatchCore.Search.BankPrecision.Int8, 1e-5)]
    [InlineData(EdgePatchCore.Search.BankPrecision.Float16, 2e-3)]
    public void Bank_precisions_agree_with_float32_within_their_stated_tolerance(EdgePatchCore.Search.BankPrecision precision, double tolerance)
    {
        var artifact = ArtifactFile.Read(fixture.Artifact);
        var device = new EdgePatchCore.Devices.ExecutionDevice(EdgePatchCore.Devices.DeviceKind.Cpu);
        var files = new[] { "test/good/0000.png", "test/good/0001.png", "test/scratch/0000.png", "test/cut/0001.png", "test/cut/0002.png" }
            .Select(f => Path.Combine(fixture.Data, f)).ToList();
        var loader = new EdgePatchCore.Imaging.ImageLoader();
        List<EdgePatchCore.Scoring.ImageScore> Scores(EdgePatchCore.Search.BankPrecision p, EdgePatchCore.Scoring.PatchSearchKind search)
        {
            using var scorer = new EdgePatchCore.Scoring.PatchCoreScorer(artifact.Content, device, p, search);
            Assert.Equal(p, scorer.Precision);
            return scorer.ScoreFiles(files, loader, batchSize: 2, (_, r) => Assert.Fail(r)).Select(x => x.Score).ToList();
        }
        var exact = Scores(EdgePatchCore.Search.BankPrecision.Float32, EdgePatchCore.Scoring.PatchSearchKind.Exhaustive);
        var other = Scores(precision, EdgePatchCore.Scoring.PatchSearchKind.Exhaustive);
        var bounded = Scores(precision, EdgePatchCore.Scoring.PatchSearchKind.Bounded);
        for (int i = 0; i < files.Count; i++)
        {
            Assert.True(Math.Abs(other[i].Score - exact[i].Score) <= tolerance * exact[i].Score, $"{files[i]}: {other[i].Score} vs {exact[i].Score}");
            Assert.True(Math.Abs(bounded[i].Score - exact[i].Score) <= tolerance * exact[i].Score,
                $"{files[i]}, bounded: {bounded[i].Score} vs {exact[i].Score}");
            for (int p = 0; p < exact[i].PatchScores.Length; p++)
                Assert.True(Math.Abs(other[i].PatchScores[p] - exact[i].PatchScores[p]) <= tolerance * exact[i].MaxPatchScore,
                            $"{files[i]} patch {p}: {other[i].PatchScores[p]} vs {exact[i].PatchScores[p]}");
        }
        Assert.Equal(Enumerable.Range(0, files.Count).OrderBy(i => exact[i].Score), Enumerable.Range(0, files.Count).OrderBy(i => other[i].Score));
    }

    /// <summary>
    /// The bounded search against the exhaustive one on every test image, at every bank precision: the same verdict,
    /// s* patch and image score (1e-5 relative), from far fewer patches searched exactly.
    /// </summary>
    [Theory]
    [InlineData(EdgePatchCore.Search.BankPrecision.Float32)]
    [InlineData(EdgePatchCore.Search.BankPrecision.Float16)]
    [InlineData(EdgePatchCore.Search.BankPrecision.Int8)]
    public void The_bounded_search_scores_every_test_image_as_the_exhaustive_one(EdgePatchCore.Search.BankPrecision precision)
    {
        var artifact = ArtifactFile.Read(fixture.Artifact);
        Assert.NotNull(artifact.Content.Bank.Cells);
        var files = Directory.EnumerateFiles(Path.Combine(fixture.Data, "test"), "*.png", SearchOption.AllDirectories).Order().ToList();
        var comparison = EdgePatchCore.Tests.Scoring.BoundedSearchComparison.Run(artifact, files, precision);
        Assert.True(comparison.Frames == files.Count, $"{comparison.Frames} of {files.Count} frames scored");
        Assert.True(comparison.Work.ExactPatches < comparison.Work.Patches / 10,
            $"{comparison.Work.ExactPatches} of {comparison.Work.Patches} patches searched exactly");
    }

    [Fact]
    public void A_model_without_a_cell_index_is_scored_exhaustively_and_says_so()
    {
        var content = ArtifactFile.Read(fixture.Artifact).Content;
        var old = content with { Bank = content.Bank with { Cells = null } };
        using var scorer = new EdgePatchCore.Scoring.PatchCoreScorer(old, new EdgePatchCore.Devices.ExecutionDevice(EdgePatchCore.Devices.DeviceKind.Cpu));
        Assert.Equal(EdgePatchCore.Scoring.PatchSearchKind.Exhaustive, scorer.SearchKind);
        Assert.Contains("the artifact holds no cell index", scorer.SearchDescription);
        string path = fixture.Folder.File("no-cells.pcb");
        ArtifactFile.Write(path, old);
        var r = TrainerRunner.Run("inspect", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("cell index          none: scored with the exhaustive search", r.Out);
        var withCells = TrainerRunner.Run("inspect", fixture.Artifact);
        Assert.Matches(@"cell index          \d+ k-means cells, [\d.]+ rows a cell on average, the largest \d+: the bounded search is the default",
            withCells.Out);
        var score = TrainerRunner.Run("score", path, Path.Combine(fixture.Data, "test", "good", "0000.png"), "--device", "cpu");
        Assert.True(score.ExitCode == 0, score.Error);
    }

    [Fact]
    public void Bench_scoring_prints_the_stage_split_and_the_gemm_ceiling()
    {
        var r = TrainerRunner.Run("bench", "scoring", "--artifact", fixture.Artifact, "--frames", Path.Combine(fixture.Data, "test", "good"),
                                  "--iterations", "2", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        foreach (var batch in new[] { 1, 8 })
            foreach (var stage in new[] { "decode + resize", "backbone + embedding", "kNN + score + map", "total", "frames per second" })
                Assert.Matches($@"(?m)^\s+{batch} {System.Text.RegularExpressions.Regex.Escape(stage)}\s+\d+\.\d+", r.Out);
        // The default precision is auto: int8 on this CPU (AVX2), and the header says why.
        Assert.Contains("int8 bank (auto: this CPU has AVX2 int8 dot products", r.Out);
        Assert.Matches(@"kNN alone \(k = 1\): 6272 query patches x \d+ bank rows x 1024 dims in [\d.]+ ms \(int8\): \d+ query patches/s, [\d.]+ effective GFLOP/s", r.Out);
        Assert.Matches(@"GEMM ceiling \(plain ONNX Runtime Gemm, same shapes\): [\d.]+ ms, [\d.]+ GFLOP/s; kNN at \d+ % of it \(float32\)", r.Out);
        Assert.Matches(@"int8 GEMM ceiling \(plain ONNX Runtime MatMulInteger, same shapes, constant bank\): [\d.]+ ms, [\d.]+ GOP/s; int8 kNN at \d+ % of it", r.Out);
        // The reduced precisions against float32 on the same patches: int8 re-ranks exactly, so it finds the same rows.
        Assert.Matches(@"kNN int8: [\d.]+ ms, [\d.]+ effective G\(FL\)OP/s, [\d.]+x float32; same nearest row as float32 for 6272 of 6272 patches", r.Out);
        Assert.Matches(@"kNN float16: [\d.]+ ms, .* same nearest row as float32 for \d+ of 6272 patches, distances within [\d.E+-]+ relative", r.Out);
        // Then the bounded search against the exhaustive one on every frame, with the work it did and the verdicts compared.
        Assert.Matches(@"search comparison: int8 bank .*; exhaustive vs bounded \(\d+ cells, 6 probed a patch\) search, 8 frames", r.Out);
        // exhaustive, bounded, speed-up; frame times and speed-up; the baseline (float32 backbone, exhaustive) and the speed-up against it.
        Assert.Matches(@"(?m)^good\s+8\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s+[\d.]+x\s+[\d.]+ %\s+[\d.]+$", r.Out);
        Assert.Contains("against the baseline (float32 backbone, exhaustive): same verdict on", r.Out);
        Assert.Contains("image scores: same verdict on 8 of 8 frames, same s* patch on 8", r.Out);
    }

    [Fact]
    public void Inspect_shows_the_manifest()
    {
        var r = TrainerRunner.Run("inspect", fixture.Artifact);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("checksum OK", r.Out);
        Assert.Contains("gasket", r.Out);
        Assert.Contains("1024 dims on a 28 x 28 grid", r.Out);
        Assert.Contains("layer2 (128) + layer3 (256)", r.Out); // layers by the names a person knows, not ONNX node names
        Assert.DoesNotContain("ReLU", r.Out);
        Assert.Contains("reference aggregation", r.Out);
    }

    [Fact]
    public void Evaluate_refuses_a_tampered_artifact()
    {
        var bytes = File.ReadAllBytes(fixture.Artifact);
        bytes[bytes.Length - 5000] ^= 1;
        string tampered = fixture.Folder.File("tampered.pcb");
        File.WriteAllBytes(tampered, bytes);
        var r = TrainerRunner.Run("evaluate", tampered, "--data", fixture.Data);
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("checksum mismatch", r.Error);
        r.AssertNoStackTrace();
    }

    /// <summary>SHA-256 prefix of the raw pixels of training image 5 at seed 3 (x86-64 libm); changes only if the renderer does.</summary>
    private const string GoldenPixelHash = "5FBA50A4EA000C87";

    [Fact]
    public void Synth_is_deterministic_for_a_seed()
    {
        var generator = new GasketGenerator(new GasketOptions { Seed = 3 });
        var (a, _) = generator.Render(0, 5, GasketDefect.None);
        var (b, _) = generator.Render(0, 5, GasketDefect.None);
        var (c, mask) = generator.Render(2 + (int)GasketDefect.Cut, 1, GasketDefect.Cut);
        using (a) using (b) using (c) using (mask)
        {
            var pa = new SixLabors.ImageSharp.PixelFormats.Rgb24[256 * 256];
            var pb = new SixLabors.ImageSharp.PixelFormats.Rgb24[256 * 256];
            a.CopyPixelDataTo(pa);
            b.CopyPixelDataTo(pb);
            Assert.Equal(pa, pb);
            // Same pixels in every process and on every machine, not only within this one (a golden hash).
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(pa.AsSpan())))[..16];
            Assert.Equal(GoldenPixelHash, hash);
            var m = new SixLabors.ImageSharp.PixelFormats.L8[256 * 256];
            mask!.CopyPixelDataTo(m);
            int defectPixels = m.Count(p => p.PackedValue == 255);
            Assert.InRange(defectPixels, 20, 2000); // a cut across the ring width, not empty, not huge
        }
    }
}
