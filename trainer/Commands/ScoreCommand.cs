using EdgePatchCore.Artifacts;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Trainer.Cli;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

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
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count < 2) throw new UsageException("expected an artifact file and at least one image");
        var artifact = ArtifactFile.Read(args.Positional[0]);
        var images = args.Positional.Skip(1).ToList();
        string? heatmap = args.Get("heatmap");
        if (heatmap is not null) CommonOptions.CheckWritable(heatmap);
        float threshold = (float)args.GetDouble("threshold", artifact.Content.Scoring.Threshold, 0, double.MaxValue);
        using var scorer = new PatchCoreScorer(artifact.Content, new ExecutionDevice(CommonOptions.ParseDevice(args)));
        var loader = new ImageLoader();
        int failures = 0;
        var o = context.Out;
        foreach (var (index, score) in scorer.ScoreFiles(images, loader, CommonOptions.ParseBatch(args),
                     (path, reason) => { failures++; context.Error.WriteLine($"error: {reason}"); }, context.Cancel))
        {
            string verdict = score.Score >= threshold ? "defect" : "ok";
            o.WriteLine($"{images[index]}\tscore {score.Score:G6}\tthreshold {threshold:G6}\tnormalized {score.Score / threshold:F3}\t{verdict}");
            if (heatmap is not null)
            {
                string target = images.Count == 1 ? heatmap
                    : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(heatmap))!,
                                   $"{Path.GetFileNameWithoutExtension(heatmap)}_{Path.GetFileNameWithoutExtension(images[index])}.png");
                HeatmapRenderer.Write(loader, images[index], artifact.Content.Input, score, threshold, target);
            }
        }
        return failures == 0 ? TrainerApp.ExitOk : TrainerApp.ExitFailure;
    }
}

/// <summary>Draws the anomaly map over the (resized) image with a jet colour scale; full red at 1.5 x threshold.</summary>
internal static class HeatmapRenderer
{
    public static void Write(ImageLoader loader, string imagePath, InputSpec spec, ImageScore score, float threshold, string target)
    {
        using var source = loader.Decode(imagePath);
        using var resized = ImageLoader.Resize(source, spec, imagePath);
        float scale = threshold > 0 && float.IsFinite(threshold) ? 1f / (1.5f * threshold) : 1f / Math.Max(1e-6f, score.AnomalyMap.Max());
        var map = score.AnomalyMap;
        int w = score.MapWidth;
        resized.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    float v = Math.Clamp(map[y * w + x] * scale, 0f, 1f);
                    var (r, g, b) = Jet(v);
                    row[x] = new Rgb24((byte)(0.5f * row[x].R + 0.5f * r), (byte)(0.5f * row[x].G + 0.5f * g), (byte)(0.5f * row[x].B + 0.5f * b));
                }
            }
        });
        resized.SaveAsPng(target);
    }

    private static (float R, float G, float B) Jet(float v)
    {
        static float C(float x) => 255f * Math.Clamp(1.5f - Math.Abs(x), 0f, 1f);
        return (C(4 * v - 3), C(4 * v - 2), C(4 * v - 1));
    }
}
