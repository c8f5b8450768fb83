using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Embedding;
using EdgePatchCore.Calibration;
using EdgePatchCore.Coreset;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Tiling;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Training;

/// <summary>
/// The trainer's path, top to bottom: list good images, embed all of them (features spilled to disk, int8
/// 128-d projections kept in memory), greedy k-center coreset, cross-fitting banks (one per fold of images,
/// see <see cref="CrossFitCalibration"/>), gather the bank, Eq. 7 neighbour table, score every image against
/// the bank of its fold, pick the threshold from those out-of-fold scores.
/// </summary>
public sealed class ModelBuilder(ILogger log, IProgress<StageProgress>? progress = null)
{
    public BuildResult Build(BuildOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var phases = new List<BuildPhase>();
        var phaseClock = Stopwatch.StartNew();
        var memory = new PhaseMemory();
        memory.Start();
        void EndPhase(string name)
        {
            var phase = new BuildPhase(name, phaseClock.Elapsed.TotalSeconds, memory.Peak());
            phases.Add(phase);
            log.LogInformation($"phase: {name}, {phase.Seconds:F1} s, peak {phase.PeakBytes / (1024.0 * 1024 * 1024):F2} GiB");
            memory.Start();
            phaseClock.Restart();
        }
        var dataset = DatasetFolder.Open(options.DataDirectory);
        var (bankFiles, calibrationFiles) = ListImages(dataset, options);
        log.LogInformation($"{options.Product}: {bankFiles.Count} images for the memory bank; threshold from " +
            (calibrationFiles is null ? $"their out-of-fold scores ({options.CalibrationFolds} folds)" : $"{calibrationFiles.Count} images in " +
                $"{options.CalibrationDirectory}"));

        var skipped = new List<SkippedFile>();
        void OnBad(string path, string reason)
        {
            if (options.Strict) throw new BuildException($"unreadable training image (--strict): {reason}");
            skipped.Add(new SkippedFile(path, reason));
            log.LogWarning($"skipped: {reason}");
        }

        if (options.Tiling is { } t && !t.NetworkInput.Equals(options.Input))
            throw new BuildException($"a tiled build's input is its tile ({t.NetworkInput}), not {options.Input}");
        var device = new ExecutionDevice(options.Device);
        log.LogInformation("preparing backbone " + (options.Backbone.ModelPath ?? "ResNet18 (ImageNet)")
            + $", layers {string.Join(" + ", options.Backbone.Layers)}");
        var backbone = BackbonePreparer.Prepare(options.Backbone, options.Input);
        var loader = new ImageLoader();
        using (device.CreateSessionOptions()) { } // decides CPU or CUDA, which "auto" depends on
        var (precision, why) = BackbonePrecisions.ResolveForBuild(options.BackbonePrecision, device);
        var ranges = BackboneCalibration.Measure(backbone, options, bankFiles, device, loader, cancel);
        backbone = backbone with { Ranges = ranges, Precision = precision };
        using var extractor = new FeatureExtractor(backbone, options.Input, device, precision);
        log.LogInformation($"device: {device.Describe()}; {BackbonePrecisions.Name(precision)} backbone ({why}; activation ranges from " +
            $"{ranges.Inputs} inputs)");

        // 1-3. The bank of the model's scale (tiles, or whole frames) and its out-of-fold scores.
        bool crossFitted = calibrationFiles is null;
        var main = BuildBank(options, extractor, device, crossFitted, EndPhase, "", cancel, (pass, spill) => options.Tiling is { } tiling
            ? pass.RunTiled(bankFiles, new TiledFrameReader(loader, tiling), spill, OnBad, cancel)
            : pass.Run(bankFiles, new ImageBatchReader(loader, options.Input, options.BatchSize), spill, OnBad, cancel));
        var scoring = new ScoringSpec { NeighbourCount = main.Bank.NeighbourCount, Reweight = options.Reweight, BlurSigma = options.BlurSigma };

        // 4. A tiled model's whole-frame scale: the same frames resized whole to the network input, a bank of their own.
        ScaleBank? whole = null;
        if (options.Tiling is { } scaled && options.WholeFrame)
        {
            whole = BuildBank(options with { CoresetSize = null, CoresetFraction = BuildOptions.WholeFrameCoresetFraction }, extractor, device,
                crossFitted, EndPhase, "whole frame: ", cancel, (pass, spill) => pass.RunWholeFrames(bankFiles,
                    new TiledFrameReader(loader, scaled), options.WholeFrameFlattening, options.BatchSize, spill, (_, _) => { }, cancel));
            if (whole.Images != main.Images)
                throw new BuildException($"the whole-frame scale read {whole.Images} training images but the tiles {main.Images}; " +
                    "rebuild with --whole-frame off, or remove the unreadable images");
        }

        var frameSize = FrameSizeOf(bankFiles);
        var content = new ModelContent
        {
            Manifest = new Manifest
            {
                Product = options.Product,
                CreatedAtUtc = DateTime.UtcNow,
                TrainerVersion = typeof(ModelBuilder).Assembly.GetName().Version?.ToString(3) ?? "0",
                TrainingImageCount = main.Images,
                FrameWidth = frameSize.Width,
                FrameHeight = frameSize.Height,
                DatasetFingerprint = DatasetFolder.Fingerprint(bankFiles),
                BuildOptions = options.Describe(),
                TrainingPatchCount = main.PatchCount,
                CoverageRadius = main.Coreset.CoverageRadius,
            },
            Backbone = backbone,
            Input = options.Input,
            Embedding = new EmbeddingSpec
            {
                Layers = backbone.Layers, Dimensions = extractor.Dimensions,
                GridWidth = extractor.GridWidth, GridHeight = extractor.GridHeight,
            },
            Bank = main.Bank,
            Scoring = scoring,
            Selection = main.Selection,
            Tiling = options.Tiling,
            WholeFrame = whole is null ? null : new WholeFrameView
            {
                Bank = whole.Bank,
                Threshold = 1, TilesThreshold = 1, // set from the calibration scores below
                TrainingPatchCount = whole.PatchCount,
                Flattening = options.WholeFrameFlattening,
            },
        };

        // 5. Threshold scores: out-of-fold scores of the training images, or the images of the calibration folder.
        var (tilesScores, wholeScores) = crossFitted
            ? (main.OutOfFold!, whole?.OutOfFold)
            : CalibrationFolderScores(content, calibrationFiles!, loader, device, options.BatchSize, OnBad, cancel);
        if (!crossFitted) EndPhase("calibration scores");
        var calibrationScores = tilesScores;
        if (content.WholeFrame is { } view && wholeScores is not null)
        {
            // Each scale over its own threshold; the frame's score is the larger, in the tiles' units, and the model's threshold is set on
            // those combined scores (so the false-reject target holds for the pair, not for each scale alone).
            float tilesThreshold = ThresholdCalibrator.Calibrate(tilesScores, options.FalseRejectRate).Threshold;
            float wholeThreshold = ThresholdCalibrator.Calibrate(wholeScores, options.FalseRejectRate).Threshold;
            content = content with { WholeFrame = view with { Threshold = wholeThreshold, TilesThreshold = tilesThreshold } };
            float toTiles = content.WholeFrame!.ToTilesUnits;
            calibrationScores = tilesScores.Zip(wholeScores, (t, w) => Math.Max(t, w * toTiles)).ToArray();
            int wholeDecides = tilesScores.Where((t, i) => wholeScores[i] * toTiles > t).Count();
            log.LogInformation($"scales: tiles threshold {tilesThreshold:G5}, whole-frame threshold {wholeThreshold:G5} " +
                $"({content.WholeFrame.Bank.Rows} rows); the whole frame sets the score of {wholeDecides} of {tilesScores.Length} good images");
        }
        var calibration = ThresholdCalibrator.Calibrate(calibrationScores, options.FalseRejectRate);
        log.LogInformation($"calibration: {calibrationScores.Length} good images, scores " +
            $"{calibration.SortedScores[0]:G4}..{calibration.SortedScores[^1]:G4}, threshold {calibration.Threshold:G5}");
        if (calibrationScores.Length < ThresholdCalibrator.MinScoresForTarget)
            log.LogWarning($"the threshold comes from {calibrationScores.Length} scores of good images, fewer than " +
                $"{ThresholdCalibrator.MinScoresForTarget}: " +
                           $"a {calibration.TargetFalseRejectRate:P0} false-reject target cannot be checked on so few (the threshold is then about " +
                               $"their largest score or the fitted log-normal tail), so expect another rate on the line; build with " +
                               $"{ThresholdCalibrator.MinScoresForTarget} or more good images, or pass --calibration DIR");

        content = content with
        {
            Manifest = content.Manifest with { CalibrationImageCount = calibrationScores.Length, BuildSeconds = clock.Elapsed.TotalSeconds },
            Scoring = content.Scoring with { Threshold = calibration.Threshold },
            Calibration = calibration,
        };
        return new BuildResult(content, skipped, main.Coreset, device.Describe(), main.Folds, phases);
    }

    /// <summary>One scale's bank: its rows with the Eq. 7 neighbour table and cell index, and its training images' out-of-fold scores.</summary>
    private sealed record ScaleBank(MemoryBank Bank, int Images, int PatchCount, CoresetResult Coreset, IReadOnlyList<Fold> Folds,
        SelectionSpace Selection, float[]? OutOfFold);

    /// <summary>
    /// Embeds the training images with <paramref name="embed"/> (full rows spilled, int8 projections in memory), selects the coreset,
    /// the cross-fitting fold banks when <paramref name="crossFitted"/>, gathers the bank, its Eq. 7 neighbour table and cell index, and
    /// scores every image against the bank of its fold.
    /// </summary>
    private ScaleBank BuildBank(BuildOptions options, FeatureExtractor extractor, ExecutionDevice device, bool crossFitted,
        Action<string> endPhase, string scale, CancellationToken cancel, Func<EmbeddingPass, FeatureSpill, ProjectedPatches> embed)
    {
        int dims = extractor.Dimensions;
        // 1. Embed: full features to disk, int8 projections in memory (128 bytes per patch at 128-d).
        var projection = new RandomProjection(dims, options.ProjectionDimensions, options.Seed);
        using var spill = new FeatureSpill(options.TempDirectory ?? Path.GetTempPath(), dims);
        var patches = embed(new EmbeddingPass(extractor, projection, log, progress), spill);
        if (patches.Images == 0) throw new BuildException($"no readable training images in {options.DataDirectory}");
        if (crossFitted && patches.Images < 2)
            throw new BuildException($"only {patches.Images} readable training image in {options.DataDirectory}: cross-fitting the threshold " +
                "needs at least 2 (or pass --calibration DIR)");
        HeapRelease.Now(); // the float16 staging rows (256 bytes a patch) are garbage now; return them before the selection
        int perImage = patches.PatchesPerImage, images = patches.Images, patchCount = patches.Count;
        endPhase(scale + "backbone preparation and embedding");

        // 2. Coreset on the projections.
        int size = options.CoresetSize ?? (int)Math.Max(1, Math.Round(patchCount * options.CoresetFraction));
        size = Math.Min(size, patchCount);
        log.LogInformation($"{scale}coreset: {size} of {patchCount} patches ({(double)size / patchCount:P1}), {options.ProjectionDimensions}-d " +
            "int8 projection");
        var coreset = SelectCoreset(patches.Rows, size, options.Seed, device, cancel);
        HeapRelease.Now(); // the selection's block copy of the projections (pinned) is garbage now; return it before the folds make theirs
        log.LogInformation($"{scale}coreset: coverage radius {coreset.CoverageRadius:G5} (projected space); {coreset.PrunedShare:P0} of the row " +
            $"data never needed reading; {coreset.Indices.Length} steps in {coreset.Passes} passes over the points");
        endPhase(scale + "coreset selection");
        var crossFit = new CrossFitCalibration(progress);
        var folds = crossFitted ? crossFit.SelectFolds(patches.Rows, perImage, coreset, options.CalibrationFolds, options.Seed, cancel) : [];
        if (folds.Count > 0) endPhase(scale + "cross-fitting banks");
        var selection = new SelectionSpace
        {
            InputDimensions = dims, OutputDimensions = options.ProjectionDimensions,
            Projection = System.Runtime.InteropServices.MemoryMarshal.AsBytes(patches.Projection.Matrix).ToArray(),
            Scale = patches.Rows.Scale, RadiusSquared = coreset.RadiusSquared,
        };
        patches = null; // the projections are no longer needed: free them before the bank is gathered
        HeapRelease.Now();

        // 3. Bank, Eq. 7 neighbour table and cell index; the out-of-fold scores against the fold banks.
        var bankRows = spill.Gather(coreset.Indices);
        int b = Math.Min(options.NeighbourCount, size);
        var neighbours = NeighbourTable.Build(bankRows, size, dims, b, device, progress);
        var cells = BankCellIndex.Build(bankRows, size, dims, device, progress: progress);
        var bank = MemoryBank.FromFloats(bankRows, size, dims, neighbours, b) with { Cells = cells };
        endPhase(scale + "bank, Eq. 7 neighbour table and cell index");
        float[]? outOfFold = null;
        if (crossFitted)
        {
            var spec = new ScoringSpec { NeighbourCount = b, Reweight = options.Reweight, BlurSigma = options.BlurSigma };
            outOfFold = crossFit.Score(spill, perImage, dims, folds, spec, device, cancel).Scores;
            endPhase(scale + "out-of-fold scores");
        }
        return new ScaleBank(bank, images, patchCount, coreset, folds, selection, outOfFold);
    }

    /// <summary>
    /// The calibration folder's scores, each scale's alone (the whole frame's null for a model with one scale): the model is scored as
    /// it will be, with both thresholds still 1 so that the scales' own scores come back unchanged.
    /// </summary>
    private (float[] Tiles, float[]? WholeFrame) CalibrationFolderScores(ModelContent content, List<string> files, ImageLoader loader,
        ExecutionDevice device, int batchSize, Action<string, string> onBad, CancellationToken cancel)
    {
        var tiles = new List<float>();
        var whole = new List<float>();
        using var scorer = new PatchCoreScorer(content with { Scoring = content.Scoring with { Threshold = 1 } }, device, BankPrecision.Auto,
            backbonePrecision: content.Backbone.Precision);
        int done = 0;
        foreach (var (_, score) in scorer.ScoreFiles(files, loader, batchSize, onBad, cancel))
        {
            tiles.Add(score.Scales?.Tiles ?? score.Score);
            if (score.Scales is { } scales) whole.Add(scales.WholeFrame);
            progress?.Report(new StageProgress("calibration", ++done, files.Count));
        }
        if (tiles.Count == 0) throw new BuildException($"no readable calibration images in {files.Count} files");
        return (tiles.ToArray(), content.WholeFrame is null ? null : whole.ToArray());
    }

    /// <summary>
    /// With the sampler <see cref="CoresetSamplers.For"/> chooses: the GPU kernel when there is a CUDA device and the build
    /// is not told to use the CPU, else the CPU; the same indices either way (exact integer distances).
    /// </summary>
    private CoresetResult SelectCoreset(QuantizedRows rows, int size, int seed, ExecutionDevice device, CancellationToken cancel)
    {
        using var sampler = CoresetSamplers.For(device.Requested, out string why);
        log.LogInformation($"coreset: on the {sampler.Name}" + (why.Length > 0 ? $" (the GPU kernel cannot run: {why})" : ""));
        return sampler.Run(rows, size, seed, progress, cancel);
    }


    /// <summary>The first readable training image's size (for the warning when frames of another size are scored); 0 x 0 when none reads.</summary>
    private static (int Width, int Height) FrameSizeOf(IReadOnlyList<string> files)
    {
        var loader = new ImageLoader();
        foreach (var file in files.Take(8))
        {
            try { return loader.Size(file); }
            catch (ImageLoadException) { }
        }
        return (0, 0);
    }

    /// <summary>Every training image goes into the bank; the calibration folder's images, when one is given, set the threshold.</summary>
    private static (List<string> Bank, List<string>? Calibration) ListImages(DatasetFolder dataset, BuildOptions options)
    {
        var files = dataset.TrainingImages.ToList();
        if (files.Count == 0) throw new BuildException($"no training images in {dataset.Root}" + (dataset.IsMvtecLayout ? "/train/good" : ""));
        if (options.CalibrationDirectory is not { } dir) return (files, null);
        var calibration = DatasetFolder.Open(dir).TrainingImages.ToList();
        if (calibration.Count == 0) throw new BuildException($"no calibration images in {dir}");
        return (files, calibration);
    }
}
