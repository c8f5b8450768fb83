using EdgePatchCore.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Trainer.Cli;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Trainer.Commands;

public sealed class ScoreCommand : ICommand
{
    public string Name => "score";
    public string Summary => "score image files with a model and print the verdicts";
    public string Usage => "P.pcb IMAGE... [--heatmap OUT.png] [options]";
    public string Description =>
        "Prints one line per image: score, threshold, normalised score (score / threshold) and verdict.\n" +
        "With --heatmap, writes the anomaly map over the image (several images: OUT_<image>.png).\n" +
        "Exit code 0 when every image was scored, 1 when any could not be read.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("heatmap", "write the anomaly-map overlay as PNG", "OUT.png"),
        new("threshold", "override the artifact's threshold", "T"),
        CommonOptions.Batch,
        CommonOptions.Device,
        CommonOptions.Precision,
        CommonOptions.Search,
        CommonOptions.BackbonePrecision,
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count < 2) throw new UsageException("expected an artifact file and at least one image");
        var artifact = ArtifactFile.Read(args.Positional[0]);
        var images = args.Positional.Skip(1).ToList();
        string? heatmap = args.Get("heatmap");
        if (heatmap is not null) CommonOptions.CheckWritable(heatmap);
        float threshold = (float)args.GetDouble("threshold", artifact.Content.Scoring.Threshold, 1e-30, float.MaxValue);
        using var scorer = new PatchCoreScorer(artifact.Content, new ExecutionDevice(CommonOptions.ParseDevice(args)),
            CommonOptions.ParsePrecision(args),
            CommonOptions.ParseSearch(args), CommonOptions.ParseBackbonePrecision(args));
        var loader = new ImageLoader();
        int failures = 0;
        var o = context.Out;
        foreach (var (index, score) in scorer.ScoreFiles(images, loader, CommonOptions.ParseBatch(args),
                     (path, reason) => { failures++; context.Error.WriteLine($"error: {reason}"); }, context.Cancel))
        {
            var judgement = Judge.Of(score.Score, threshold);
            if (judgement == Judgement.Undecidable)
            {
                failures++;
                context.Error.WriteLine($"error: {images[index]}: score {score.Score} cannot be judged (not a finite number)");
                continue;
            }
            string verdict = judgement == Judgement.Defect ? "defect" : "ok";
            string scales = score.Scales is { } both
                ? $"\ttiles {both.Tiles:G6}\twhole frame {both.WholeFrame:G6} (x {both.WholeFrameToTiles:G4} = " +
                  $"{both.WholeFrameInTilesUnits:G6})" : "";
            o.WriteLine($"{images[index]}\tscore {score.Score:G6}\tthreshold {threshold:G6}\tnormalized {score.Score / threshold:F3}\t{verdict}" +
                scales);
            if (heatmap is not null)
            {
                string target = images.Count == 1 ? heatmap
                    : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(heatmap))!,
                                   $"{Path.GetFileNameWithoutExtension(heatmap)}_{Path.GetFileNameWithoutExtension(images[index])}.png");
                WriteHeatmap(loader, images[index], scorer, score, threshold, target);
            }
        }
        return failures == 0 ? TrainerApp.ExitOk : TrainerApp.ExitFailure;
    }

    private static void WriteHeatmap(ImageLoader loader, string imagePath, PatchCoreScorer scorer, ImageScore score, float threshold, string target)
    {
        using var frame = loader.Decode(imagePath);
        using var overlay = HeatmapRenderer.Render(frame, scorer.MapGeometry(frame.Width, frame.Height), score, threshold, imagePath);
        overlay.SaveAsPng(target);
    }
}
