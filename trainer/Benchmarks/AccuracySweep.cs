using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Evaluation;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Trainer.Commands;
using EdgePatchCore.Training;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// The accuracy/speed sweep behind the build presets (docs/ACCURACY.md): for each point, a build on the
/// training images (every image in the bank; the threshold plays no part in these figures, so it is set from
/// five training images to save the cross-fitting's time), an evaluation (image AUROC, pixel AUROC, PRO) and
/// the artifact kept; then one timing pass that scores the same test frames at batch 1 with every artifact in
/// turn, three rounds, so that the latencies compare within one run on a shared machine. Points already
/// measured (OUT/NAME.json) are not built again. Writes OUT/sweep.md (a table) and OUT/pareto.png.
/// </summary>
public sealed class AccuracySweep(TextWriter output, ConsoleProgress console)
{
    /// <summary>
    /// The grid of docs/ACCURACY.md. Left out because they do not fit this CPU's time: 320 x 320 at 10% (122,000
    /// rows) and layer1 + layer2 + layer3 (3,136 patches an image, 2.4 million on MTD; its 10% selection alone ran
    /// for more than 25 minutes). Add a point here to measure it.
    /// </summary>
    public static readonly IReadOnlyList<SweepPoint> Points =
    [
        new("224-c10", ""),
        new("224-c01", "--coreset 0.01"),
        new("224-c25", "--coreset 0.25"),
        new("256-c10", "--size 256"),
        new("256-c01", "--size 256 --coreset 0.01"),
        new("320-c01", "--size 320 --coreset 0.01"),
        new("224-c10-d512", "--layer-dims 512 --target-dims 512"),
        new("224-c10-d384", "--layer-dims 384 --target-dims 384"),
        new("224-c10-l2", "--layers layer2"),
        new("224-c10-l3", "--layers layer3"),
        new("224-c25-l3", "--layers layer3 --coreset 0.25"),
        new("256-c10-l3", "--size 256 --layers layer3"),
        new("320-c10-l3", "--size 320 --layers layer3"),
        new("320-c25-l3", "--size 320 --layers layer3 --coreset 0.25"),
        new("224-c10-eq7off", "--reweight off"),
        new("224-c10-crop", "--resize center-crop"),
        new("224-c10-seed1", "--seed 1"),
    ];

    public void Run(AccuracySweepOptions options, CancellationToken cancel)
    {
        var points = options.Only is null ? Points : options.Only.Select(n =>
            Points.FirstOrDefault(p => p.Name == n)
                ?? throw new UsageException($"--points: no point '{n}' (known: {string.Join(", ", Points.Select(p => p.Name))})")).ToList();
        var dataset = DatasetFolder.Open(options.Data);
        if (!dataset.IsMvtecLayout
            || dataset.TestImages.Count == 0) throw new UsageException($"{options.Data} is not an MVTec-layout folder with test images");
        Directory.CreateDirectory(options.Output);
        using var calibration = CalibrationFolder(dataset, options.Output);
        var device = new ExecutionDevice(options.Device);
        output.WriteLine($"sweep: {points.Count} points on {dataset.Root}, {device.Describe()}, results in {options.Output}");

        var results = new List<SweepResult>();
        foreach (var point in points)
        {
            cancel.ThrowIfCancellationRequested();
            string json = Path.Combine(options.Output, point.Name + ".json");
            if (File.Exists(json) && File.Exists(ArtifactPath(options, point)))
            {
                results.Add(JsonSerializer.Deserialize<SweepResult>(File.ReadAllText(json), EvaluationReport.JsonOptions)!);
                output.WriteLine($"{point.Name}: measured before ({json})");
                continue;
            }
            var result = Measure(point, options, calibration.Path, device, cancel);
            File.WriteAllText(json, JsonSerializer.Serialize(result, EvaluationReport.JsonOptions));
            results.Add(result);
        }

        results = TimingPass(results, options, dataset, device, cancel);
        foreach (var r in results) File.WriteAllText(Path.Combine(options.Output, r.Name + ".json"), JsonSerializer.Serialize(r,
            EvaluationReport.JsonOptions));
        string table = Table(results);
        File.WriteAllText(Path.Combine(options.Output, "sweep.md"), table);
        string plot = Path.Combine(options.Output, "pareto.png");
        ParetoPlot(results, plot, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Data))));
        output.Write(table);
        output.WriteLine($"wrote {Path.Combine(options.Output, "sweep.md")} and {plot}");
    }

    private static string ArtifactPath(AccuracySweepOptions options, SweepPoint point) => Path.Combine(options.Output, point.Name + ".pcb");

    private SweepResult Measure(SweepPoint point, AccuracySweepOptions options, string calibration, ExecutionDevice device, CancellationToken cancel)
    {
        var extra = point.BuildArguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] args = ["--product", "sweep", "--data", options.Data, "--calibration", calibration, .. extra];
        var buildOptions = BuildCommand.ParseOptions(TrainerApp.Parse(new BuildCommand(), args)) with { Device = options.Device };
        output.WriteLine($"{point.Name}: build {string.Join(' ', extra)}");
        var clock = Stopwatch.StartNew();
        var built = new ModelBuilder(console, console).Build(buildOptions, cancel);
        double buildSeconds = clock.Elapsed.TotalSeconds;
        string path = ArtifactPath(options, point);
        ArtifactFile.Write(path, built.Content);
        var artifact = ArtifactFile.Read(path);
        using var scorer = new PatchCoreScorer(artifact.Content, device, BankPrecision.Auto);
        var report = new Evaluator(console, console).Evaluate(artifact, scorer, DatasetFolder.Open(options.Data), cancel: cancel).Report;
        var c = artifact.Content;
        var result = new SweepResult(point.Name, point.BuildArguments, c.Bank.Rows, c.Bank.Columns, c.Input.ToString(), buildSeconds,
                                     report.ImageAuroc, report.PixelAuroc, report.Pro);
        output.WriteLine($"{point.Name}: image AUROC {F(result.ImageAuroc)}, pixel AUROC {F(result.PixelAuroc)}, PRO {F(result.Pro)}, build " +
            $"{buildSeconds:F0} s");
        return result;
    }

    /// <summary>Per-frame latency (file decode to anomaly map, batch 1) of every artifact, in turn, three rounds.</summary>
    private List<SweepResult> TimingPass(List<SweepResult> results, AccuracySweepOptions options, DatasetFolder dataset, ExecutionDevice device,
        CancellationToken cancel)
    {
        var frames = dataset.TestImages.Where((_, i) => i % Math.Max(1, dataset.TestImages.Count / options.Frames) == 0)
                                       .Take(options.Frames).Select(t => t.Path).ToList();
        var times = results.ToDictionary(r => r.Name, _ => new List<double>());
        var loader = new ImageLoader();
        const int rounds = 3, warmUp = 3;
        for (int round = 0; round < rounds; round++)
            foreach (var r in results)
            {
                cancel.ThrowIfCancellationRequested();
                var content = ArtifactFile.Read(Path.Combine(options.Output, r.Name + ".pcb")).Content;
                using var scorer = new PatchCoreScorer(content, device, BankPrecision.Auto);
                var input = new float[scorer.Features.InputLength];
                for (int i = -warmUp; i < frames.Count; i++) // the warm-up frames are the last ones, cycled
                {
                    long t0 = Stopwatch.GetTimestamp();
                    loader.LoadInput(frames[(i % frames.Count + frames.Count) % frames.Count], content.Input, input);
                    scorer.Score(input, 1);
                    if (i >= 0) times[r.Name].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
                console.Report(new StageProgress("timing", round * results.Count + results.IndexOf(r) + 1, rounds * results.Count, r.Name));
            }
        return results.Select(r => r with { MedianMs = Percentile.Of(times[r.Name], 0.5), P95Ms = Percentile.Of(times[r.Name], 0.95) }).ToList();
    }

    private static string F(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string Table(IReadOnlyList<SweepResult> results)
    {
        var baseline = results.FirstOrDefault(r => r.BuildArguments.Length == 0);
        var s = new StringBuilder();
        s.AppendLine("| point | build options | input | bank rows x dims | image AUROC | pixel AUROC | PRO | ms/frame (median, p95) | x balanced | " +
            "build s |");
        s.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in results)
        {
            string ratio = baseline?.MedianMs is { } b && r.MedianMs is { } m ? (m / b).ToString("0.00", CultureInfo.InvariantCulture) : "";
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {(r.BuildArguments.Length == 0 ? "(defaults)" : "`" + r.BuildArguments + "`")} | {r.Input} | {r.BankRows} x " +
                    $"{r.Dimensions} | {F(r.ImageAuroc)} | {F(r.PixelAuroc)} | {F(r.Pro)} | {r.MedianMs:F0}, {r.P95Ms:F0} | {ratio} | " +
                    $"{r.BuildSeconds:F0} |"));
        }
        return s.ToString();
    }

    /// <summary>Image AUROC over latency, the Pareto front (no other point is both faster and more accurate) joined.</summary>
    private static void ParetoPlot(IReadOnlyList<SweepResult> results, string path, string dataset)
    {
        var measured = results.Where(r => r.ImageAuroc is not null && r.MedianMs is not null).ToList();
        var plot = new ScottPlot.Plot();
        var all = plot.Add.ScatterPoints(measured.Select(r => r.MedianMs!.Value).ToArray(), measured.Select(r => r.ImageAuroc!.Value).ToArray());
        all.MarkerSize = 8;
        foreach (var r in measured)
        {
            var label = plot.Add.Text(r.Name, r.MedianMs!.Value, r.ImageAuroc!.Value);
            label.LabelFontSize = 11;
            label.OffsetX = 6;
        }
        var front = measured.Where(r => !measured.Any(o => o.MedianMs <= r.MedianMs && o.ImageAuroc > r.ImageAuroc
                                                          || o.MedianMs < r.MedianMs && o.ImageAuroc >= r.ImageAuroc))
                            .OrderBy(r => r.MedianMs).ToList();
        if (front.Count > 1)
        {
            var line = plot.Add.ScatterLine(front.Select(r => r.MedianMs!.Value).ToArray(), front.Select(r => r.ImageAuroc!.Value).ToArray());
            line.LegendText = "Pareto front";
        }
        plot.Axes.Margins(horizontal: 0.2, vertical: 0.1); // room for the labels right of the last points
        plot.Title($"{dataset}: image AUROC against latency per frame (batch 1, this machine)");
        plot.XLabel("median ms per frame (decode to anomaly map)");
        plot.YLabel("image AUROC");
        plot.SavePng(path, 900, 560);
    }

    /// <summary>Five training images copied aside: the sweep's builds take their threshold from them (it is not measured here).</summary>
    private static TempCopy CalibrationFolder(DatasetFolder dataset, string output)
    {
        var folder = new TempCopy(Path.Combine(output, ".calibration"));
        foreach (var file in dataset.TrainingImages.Take(5)) File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)), overwrite: true);
        return folder;
    }

    private sealed class TempCopy : IDisposable
    {
        public string Path { get; }
        public TempCopy(string path) { Path = path; Directory.CreateDirectory(path); }
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
