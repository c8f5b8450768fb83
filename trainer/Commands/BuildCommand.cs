using EdgePatchCore.Imaging;
using EdgePatchCore.Diagnostics;
using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Embedding;
using EdgePatchCore.Coreset;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Training;

namespace EdgePatchCore.Trainer.Commands;

public sealed class BuildCommand : ICommand
{
    /// <summary>The build's defaults as <see cref="BuildOptions"/> and <see cref="Tiling.TilingSpec"/> define them: the option definitions (and so
    /// --help) read them from here.</summary>
    private static readonly BuildOptions Defaults = new() { Product = "", DataDirectory = "" };
    private static readonly Tiling.TilingSpec Tile = new() { TileSize = Tiling.TilingSpec.MinTileSize };

    private static string Text(IFormattable value) => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture);

    public string Name => "build";
    public string Summary => "build a model (.pcb) from images of good parts";
    public string Usage => "--product P [--data DIR] [--out P.pcb] [options]";
    public string Description =>
        "Embeds every good training image with the backbone, selects a coreset memory bank by greedy\n" +
        "k-center selection, sets the threshold from cross-fitted scores (each image scored against a\n" +
        "bank built without it), and writes one artifact.\nDIR is an MVTec-layout folder (its train/good is used) or a flat folder of images.\n" +
        "Unreadable images are skipped and listed (or fail the build with --strict).";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("product", "product name, stored in the artifact", "P"),
        new("data", "training images: MVTec layout or a flat folder", "DIR", "datasets/P"),
        new("out", "artifact to write", "FILE", "P.pcb"),
        new("preset", "defaults for size, coreset, dimensions and layers: " + string.Join(", ",
            BuildPreset.All.Select(p => $"{p.Name} ({p.Summary})")) +
            "; options given explicitly win", "NAME", "balanced"),
        new("backbone", "another ONNX backbone instead of the bundled ImageNet ResNet18", "FILE.onnx"),
        new("layers", "layer output names (or layer1..layer4 for ResNet18), shallow first", "A,B",
            "the preset's: layer2,layer3 (fast, accurate: layer3)"),
        new("input-norm", "what the backbone expects: bgr255 (mean image), bgr255-channel-mean, imagenet", "NORM",
            "bgr255; imagenet with --backbone"),
        new("aggregation", "patch features: reference (the official code's 3x3 mapping) or average (3x3 mean per channel, concat)", "MODE",
            "reference"),
        new("layer-dims", "reference aggregation: dimensions per layer", "N", "the preset's: 1024"),
        new("target-dims", "reference aggregation: final dimensions", "N", "the preset's: 1024"),
        new("size", "network input size (each side a multiple of 16 for layer3, 32 for layer4)", "N|WxH", "the preset's: 224"),
        new("resize", "stretch, center-crop or letterbox", "MODE", "stretch"),
        new("resize-to", "shorter side before the centre crop", "N", "256 for 224"),
        new("tile",
            "tiled inspection: cover the frame with N x N tiles at native pixels instead of resizing it to --size (megapixel frames, small defects)",
            "N"),
        new("tile-overlap", "with --tile: least overlap of neighbouring tiles, in pixels", "P", Text(Tile.Overlap)),
        new("whole-frame", "with --tile: also score the whole frame, resized to the tile size, against a bank of its own; the larger of the " +
            "two scores, each over its own threshold, decides (defects only the whole view shows: large faint stains)", "on|off", "on"),
        new("whole-frame-flatten", "with --tile: flatten the whole view's line profile, so that bands along a brushed or rolled texture do not " +
            "look like stains (rows: the texture runs along x; columns: along y)", "off|rows|columns", "off"),
        new("scale", "with --tile: scale the frame by S before tiling (0.5 halves width and height)", "S", Text(Tile.Scale)),
        new("coreset", "fraction of training patches kept in the bank", "F", "the preset's: 0.1 (accurate: 0.25)"),
        new("coreset-size", "exact number of bank rows (instead of --coreset)", "N"),
        new("projection", "dimensions of the random projection used for selection", "D", Text(Defaults.ProjectionDimensions)),
        new("seed", "random seed (projection, start point, calibration folds)", "N", Text(Defaults.Seed)),
        new("neighbours", "b of Eq. 7: bank neighbours in the re-weighting", "B", Text(Defaults.NeighbourCount)),
        new("reweight", "Eq. 7 image-score re-weighting: on or off (plain max)", "on|off", Defaults.Reweight ? "on" : "off"),
        new("blur-sigma", "Gaussian sigma of the anomaly map, in pixels", "S", Text(Defaults.BlurSigma)),
        new("calibration", "separate folder of good images for the threshold (instead of cross-fitting)", "DIR"),
        new("calibration-folds", "k of the cross-fitting that scores the training images for the threshold", "K", Text(Defaults.CalibrationFolds)),
        new("false-reject-rate", "target share of good parts rejected at the threshold", "R", Text(Defaults.FalseRejectRate)),
        new("strict", "fail on the first unreadable training image"),
        new("backbone-precision", "precision the training images are embedded at, and the agent's: auto (int8 where this CPU has int8 " +
            "dot products, else float32), float32, int8; the int8 backbone's activation ranges are calibrated on training images either way",
            "P", "auto"),
        CommonOptions.Batch,
        CommonOptions.Device,
        new("temp-dir", "where full features are spilled during selection", "DIR", "system temp"),
        new("report", "also write a self-contained HTML build report (threshold tail, coverage radius, folds, phase times, skipped images)",
            "FILE.html"),
        new("sign", "sign the artifact with this private key (trainer keygen)", "KEY.pem"),
        CommonOptions.ReleaseVersion,
        CommonOptions.ExpiresIn,
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count > 0) throw new UsageException($"unexpected argument '{args.Positional[0]}'");
        var options = ParseOptions(args);
        string product = options.Product, data = options.DataDirectory;
        string output = args.Get("out", product + ".pcb");
        string? backbonePath = options.Backbone.ModelPath;

        var release = CommonOptions.ParseRelease(args);
        if (!args.Has("sign") && (args.Has("release-version")
            || args.Has("expires-in"))) throw new UsageException("--release-version and --expires-in need --sign KEY.pem");

        // Options are valid; now the file system, before any long work.
        if (!Directory.Exists(data))
            throw new BuildException($"data folder not found: {data}"
                + (args.Has("data") ? "" : $" (create it with 'trainer synth --product {product}' or pass --data DIR)"));
        if (backbonePath is not null && !File.Exists(backbonePath)) throw new BuildException($"backbone file not found: {backbonePath}");
        CommonOptions.CheckWritable(output);
        string? html = args.Get("report");
        if (html is not null) CommonOptions.CheckWritable(html);
        using var signingKey = args.Get("sign") is { } keyPath ? SigningKeys.LoadPrivate(keyPath) : null; // a bad key fails now, not after the build

        var clock = Stopwatch.StartNew();
        var console = context.CreateProgress();
        var result = new ModelBuilder(console, console).Build(options, context.Cancel);
        context.Cancel.ThrowIfCancellationRequested();
        string id = ArtifactFile.Write(output, result.Content, signingKey, release);

        var c = result.Content;
        var o = context.Out;
        o.WriteLine($"wrote {output} (artifact {id}, {new FileInfo(output).Length / 1e6:F1} MB)");
        o.WriteLine($"  product            {c.Manifest.Product}");
        o.WriteLine($"  training images    {c.Manifest.TrainingImageCount} ({c.Manifest.TrainingPatchCount} patches), threshold from " +
            $"{c.Manifest.CalibrationImageCount} " +
            (options.CalibrationDirectory is null ? $"out-of-fold scores ({result.Folds.Count} folds)" : "calibration images"));
        o.WriteLine($"  memory bank        {c.Bank.Rows} x {c.Bank.Columns} ({(double)c.Bank.Rows / c.Manifest.TrainingPatchCount:P1} of patches), " +
            $"coverage radius {c.Manifest.CoverageRadius:G5}");
        o.WriteLine($"  threshold          {c.Scoring.Threshold:G5} (target false-reject rate {options.FalseRejectRate:P1})");
        o.WriteLine($"  device             {result.Device}");
        // Each phase's peak is measured on its own (the kernel's high-water mark is reset between phases): the build's is the largest.
        long peak = result.Phases.Select(p => p.PeakBytes).DefaultIfEmpty(CommonOptions.PeakBytes()).Max();
        o.WriteLine($"  build time         {clock.Elapsed.TotalSeconds:F1} s, peak memory {peak / (1024.0 * 1024 * 1024):F2} GiB");
        if (result.Skipped.Count > 0)
        {
            o.WriteLine($"  skipped {result.Skipped.Count} unreadable file(s):");
            foreach (var s in result.Skipped) o.WriteLine($"    {s.Reason}");
        }
        if (html is not null)
        {
            var page = new Reports.BuildReportPage().Render(ArtifactFile.Read(output), result);
            FileSystem.DurableFile.Write(html, System.Text.Encoding.UTF8.GetBytes(page), sync: false);
            o.WriteLine($"wrote {html}");
        }
        return TrainerApp.ExitOk;
    }

    /// <summary>The build's options from its command line (also used by `bench sweep` for each point).</summary>
    public static BuildOptions ParseOptions(CommandLine args)
    {
        string product = args.Require("product");
        if (product.Length == 0 || product.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || product.Contains('/'))
            throw new UsageException($"--product must be a plain name, not '{product}'");
        string data = args.Get("data", Path.Combine("datasets", product));
        string? backbonePath = args.Get("backbone");
        var preset = args.Parsed("preset", BuildPreset.Parse);
        var layers = args.Get("layers", preset.Layers).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (layers.Length == 0) throw new UsageException("--layers needs at least one layer name");
        var defaultNorm = backbonePath is null ? InputNormalization.Bgr255MeanImage : InputNormalization.ImageNet;
        if (args.Has("coreset") && args.Has("coreset-size")) throw new UsageException("use either --coreset or --coreset-size, not both");
        if (args.Has("calibration")
            && args.Has("calibration-folds")) throw new UsageException("use either --calibration DIR or --calibration-folds K, not both");
        var tiling = ParseTiling(args);
        if (args.Has("whole-frame-flatten") && !args.Parsed("whole-frame", ParseOnOff))
            throw new UsageException("--whole-frame-flatten flattens the whole-frame scale, which --whole-frame off leaves out");

        return new BuildOptions
        {
            Product = product,
            DataDirectory = data,
            Preset = preset.Name,
            Input = tiling?.NetworkInput ?? CommonOptions.ParseInput(args, preset.Size),
            Tiling = tiling,
            Backbone = new BackboneOptions
            {
                ModelPath = backbonePath,
                Layers = layers,
                Normalization = args.GetParsed("input-norm", defaultNorm, BackboneOptions.ParseNormalization),
                Aggregation = args.Parsed("aggregation", BackboneOptions.ParseAggregation),
                LayerDimensions = args.GetInt("layer-dims", preset.Dimensions, 1, 65536),
                TargetDimensions = args.GetInt("target-dims", preset.Dimensions, 1, 65536),
            },
            CoresetFraction = args.GetDouble("coreset", preset.CoresetFraction, 1e-6, 1.0),
            CoresetSize = args.OptionalInt("coreset-size", 1),
            ProjectionDimensions = args.Int("projection", 1, QuantizedRows.MaxDimensions),
            Seed = args.Int("seed", 0),
            NeighbourCount = args.Int("neighbours", 1, 1000),
            Reweight = args.Parsed("reweight", ParseOnOff),
            BlurSigma = (float)args.Double("blur-sigma", 0, 100),
            CalibrationDirectory = args.Get("calibration"),
            CalibrationFolds = args.Int("calibration-folds", 2, 50),
            FalseRejectRate = args.Double("false-reject-rate", 1e-6, 0.5),
            Strict = args.Has("strict"),
            BatchSize = CommonOptions.ParseBatch(args),
            BackbonePrecision = CommonOptions.ParseBackbonePrecision(args),
            WholeFrame = args.Parsed("whole-frame", ParseOnOff),
            WholeFrameFlattening = args.Parsed("whole-frame-flatten", ParseFlattening),
            Device = CommonOptions.ParseDevice(args),
            TempDirectory = args.Get("temp-dir"),
        };
    }

    /// <summary>--tile N [--tile-overlap P] [--scale S]; null without --tile. The tile is the network input, so --size and --resize do not
    /// apply.</summary>
    private static Tiling.TilingSpec? ParseTiling(CommandLine args)
    {
        if (args.OptionalInt("tile", Tiling.TilingSpec.MinTileSize, Tiling.TilingSpec.MaxTileSize) is not { } tileSize)
        {
            if (args.Has("tile-overlap") || args.Has("scale") || args.Has("whole-frame") || args.Has("whole-frame-flatten"))
                throw new UsageException("--tile-overlap, --scale, --whole-frame and --whole-frame-flatten need --tile N");
            return null;
        }
        foreach (var other in new[] { "size", "resize", "resize-to" })
            if (args.Has(other)) throw new UsageException($"--{other} does not apply with --tile (each tile is a network input of N x N pixels)");
        var tiling = new Tiling.TilingSpec
        {
            TileSize = tileSize,
            Overlap = args.Int("tile-overlap", 0, Tiling.TilingSpec.MaxTileSize / 2),
            Scale = (float)args.Double("scale", Tiling.TilingSpec.MinScale, Tiling.TilingSpec.MaxScale),
        };
        try { tiling.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return tiling;
    }

    private static ProfileFlattening ParseFlattening(string text) => text.ToLowerInvariant() switch
    {
        "off" => ProfileFlattening.Off,
        "rows" => ProfileFlattening.Rows,
        "columns" => ProfileFlattening.Columns,
        _ => throw new ArgumentException($"expected off, rows or columns, not '{text}'"),
    };

    private static bool ParseOnOff(string text) => text.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => throw new ArgumentException($"expected on or off, not '{text}'"),
    };
}
