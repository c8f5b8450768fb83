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
        int dims = extractor.Dimensions, perImage = extractor.PatchesPerImage;

        // 1. Embed: full features to disk, int8 projections in memory (128 bytes per patch at 128-d).
        var projection = new RandomProjection(dims, options.ProjectionDimensions, options.Seed);
        using var spill = new FeatureSpill(options.TempDirectory ?? Path.GetTempPath(), dims);
        var pass = new EmbeddingPass(extractor, projection, log, progress);
        var patches = options.Tiling is { } tiling
            ? pass.RunTiled(bankFiles, new TiledFrameReader(loader, tiling), spill, OnBad, cancel)
            : pass.Run(bankFiles, new ImageBatchReader(loader, options.Input, options.BatchSize), spill, OnBad, cancel);
        perImage = patches.PatchesPerImage;
        if (patches.Images == 0) throw new BuildException($"no readable training images in {dataset.Root} ({skipped.Count} skipped)");
        if (calibrationFiles is null && patches.Images < 2)
            throw new BuildException($"only {patches.Images} readable training image in {dataset.Root}: cross-fitting the threshold needs at least " +
                $"2 (or pass --calibration DIR)");
        ReleaseMemory(); // the float16 staging rows (256 bytes a patch) are garbage now; return them before the selection
        int embedded = patches.Images, patchCount = patches.Count;
        EndPhase("backbone preparation and embedding");

        // 2. Coreset on the projections.
        int size = options.CoresetSize ?? (int)Math.Max(1, Math.Round(patchCount * options.CoresetFraction));
        size = Math.Min(size, patchCount);
        log.LogInformation($"coreset: {size} of {patchCount} patches ({(double)size / patchCount:P1}), {options.ProjectionDimensions}-d int8 " +
            $"projection");
        var coreset = SelectCoreset(patches.Rows, size, options.Seed, device, cancel);
        log.LogInformation($"coreset: coverage radius {coreset.CoverageRadius:G5} (projected space); {coreset.PrunedShare:P0} of the row data " +
            $"never needed reading");
        EndPhase("coreset selection");
        var crossFit = new CrossFitCalibration(progress);
        var folds = calibrationFiles is null
            ? crossFit.SelectFolds(patches.Rows, perImage, coreset, options.CalibrationFolds, options.Seed, cancel)
            : [];
        if (folds.Count > 0) EndPhase("cross-fitting banks");
        var selection = new SelectionSpace
        {
            InputDimensions = dims, OutputDimensions = options.ProjectionDimensions,
            Projection = System.Runtime.InteropServices.MemoryMarshal.AsBytes(patches.Projection.Matrix).ToArray(),
            Scale = patches.Rows.Scale, RadiusSquared = coreset.RadiusSquared,
        };
        patches = null; // the projections are no longer needed: free them before the bank is gathered
        ReleaseMemory();

        // 3. Bank and Eq. 7 neighbour table.
        var bankRows = spill.Gather(coreset.Indices);
        int b = Math.Min(options.NeighbourCount, size);
        var neighbours = NeighbourTable.Build(bankRows, size, dims, b, device, progress);
        var cells = BankCellIndex.Build(bankRows, size, dims, device, progress: progress);

        var frameSize = FrameSizeOf(bankFiles);
        var content = new ModelContent
        {
            Manifest = new Manifest
            {
                Product = options.Product,
                CreatedAtUtc = DateTime.UtcNow,
                TrainerVersion = typeof(ModelBuilder).Assembly.GetName().Version?.ToString(3) ?? "0",
                TrainingImageCount = embedded,
                FrameWidth = frameSize.Width,
                FrameHeight = frameSize.Height,
                DatasetFingerprint = DatasetFolder.Fingerprint(bankFiles),
                BuildOptions = options.Describe(),
                TrainingPatchCount = patchCount,
                CoverageRadius = coreset.CoverageRadius,
            },
            Backbone = backbone,
            Input = options.Input,
            Embedding = new EmbeddingSpec
            {
                Layers = backbone.Layers, Dimensions = dims,
                GridWidth = extractor.GridWidth, GridHeight = extractor.GridHeight,
            },
            Bank = MemoryBank.FromFloats(bankRows, size, dims, neighbours, b) with { Cells = cells },
            Scoring = new ScoringSpec { NeighbourCount = b, Reweight = options.Reweight, BlurSigma = options.BlurSigma },
            Selection = selection,
            Tiling = options.Tiling,
        };

        EndPhase("bank, Eq. 7 neighbour table and cell index");

        // 4. Threshold scores: out-of-fold scores of the training images, or the images of the calibration folder.
        var calibrationScores = new List<float>();
        if (calibrationFiles is null)
        {
            calibrationScores.AddRange(crossFit.Score(spill, perImage, dims, folds, content.Scoring, device, cancel).Scores);
        }
        else
        {
            using var scorer = new PatchCoreScorer(content, device, BankPrecision.Auto);
            int done = 0;
            foreach (var (_, score) in scorer.ScoreFiles(calibrationFiles, loader, options.BatchSize, OnBad, cancel))
            {
                calibrationScores.Add(score.Score);
                progress?.Report(new StageProgress("calibration", ++done, calibrationFiles.Count));
            }
            if (calibrationScores.Count == 0) throw new BuildException($"no readable calibration images in {options.CalibrationDirectory}");
        }
        EndPhase(calibrationFiles is null ? "out-of-fold scores" : "calibration scores");
        var calibration = ThresholdCalibrator.Calibrate(calibrationScores, options.FalseRejectRate);
        log.LogInformation($"calibration: {calibrationScores.Count} good images, scores " +
            $"{calibration.SortedScores[0]:G4}..{calibration.SortedScores[^1]:G4}, threshold {calibration.Threshold:G5}");
        if (calibrationScores.Count < ThresholdCalibrator.MinScoresForTarget)
            log.LogWarning($"the threshold comes from {calibrationScores.Count} scores of good images, fewer than " +
                $"{ThresholdCalibrator.MinScoresForTarget}: " +
                           $"a {calibration.TargetFalseRejectRate:P0} false-reject target cannot be checked on so few (the threshold is then about " +
                               $"their largest score or the fitted log-normal tail), so expect another rate on the line; build with " +
                               $"{ThresholdCalibrator.MinScoresForTarget} or more good images, or pass --calibration DIR");

        content = content with
        {
            Manifest = content.Manifest with { CalibrationImageCount = calibrationScores.Count, BuildSeconds = clock.Elapsed.TotalSeconds },
            Scoring = content.Scoring with { Threshold = calibration.Threshold },
            Calibration = calibration,
        };
        return new BuildResult(content, skipped, coreset, device.Describe(), folds, phases);
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

    /// <summary>
    /// A full compacting collection between the build's phases: each phase drops hundreds of megabytes of large
    /// arrays at once, and without this the next phase's peak would stack on memory the GC has not returned yet.
    /// </summary>
    private static void ReleaseMemory()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
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
