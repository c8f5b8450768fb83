using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Backbones;
using EdgePatchCore.Calibration;
using EdgePatchCore.Coreset;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Training;

/// <summary>A build that cannot go on; the message is meant for the user.</summary>
public sealed class BuildException(string message) : Exception(message);

public sealed record SkippedFile(string Path, string Reason);

public sealed record BuildResult(ModelContent Content, IReadOnlyList<SkippedFile> Skipped, CoresetResult Coreset, string Device);

/// <summary>
/// The trainer's path, top to bottom: list good images, hold out a calibration split, embed the rest
/// (features spilled to disk, int8 128-d projections kept in memory), greedy k-center coreset, gather the
/// bank, Eq. 7 neighbour table, score the held-out images, pick the threshold.
/// </summary>
public sealed class ModelBuilder(IReporter reporter)
{
    public BuildResult Build(BuildOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var dataset = DatasetFolder.Open(options.DataDirectory);
        var (bankFiles, calibrationFiles) = SplitCalibration(dataset, options);
        reporter.Info($"{options.Product}: {bankFiles.Count} images for the memory bank, {calibrationFiles.Count} held out for calibration");

        var skipped = new List<SkippedFile>();
        void OnBad(string path, string reason)
        {
            if (options.Strict) throw new BuildException($"unreadable training image (--strict): {reason}");
            skipped.Add(new SkippedFile(path, reason));
            reporter.Warn($"skipped: {reason}");
        }

        var device = new ExecutionDevice(options.Device);
        reporter.Info("preparing backbone " + (options.Backbone.ModelPath ?? "ResNet18 (ImageNet)") + $", layers {string.Join(" + ", options.Backbone.Layers)}");
        var backbone = BackbonePreparer.Prepare(options.Backbone, options.Input);
        using var extractor = new FeatureExtractor(backbone, options.Input, device);
        reporter.Info($"device: {device.Describe()}");
        int dims = extractor.Dimensions, perImage = extractor.PatchesPerImage;

        // 1. Embed: full features to disk, int8 projections in memory (128 bytes per patch at 128-d).
        var projection = new RandomProjection(dims, options.ProjectionDimensions, options.Seed);
        using var spill = new FeatureSpill(options.TempDirectory ?? Path.GetTempPath(), dims);
        var loader = new ImageLoader();
        var reader = new ImageBatchReader(loader, options.Input, options.BatchSize);
        var patches = new EmbeddingPass(extractor, projection, reporter).Run(bankFiles, reader, spill, OnBad, cancel);
        if (patches.Images == 0) throw new BuildException($"no readable training images in {dataset.Root} ({skipped.Count} skipped)");
        ReleaseMemory(); // the float16 staging rows (256 bytes a patch) are garbage now; return them before the selection
        int embedded = patches.Images, patchCount = patches.Count;

        // 2. Coreset on the projections.
        int size = options.CoresetSize ?? (int)Math.Max(1, Math.Round(patchCount * options.CoresetFraction));
        size = Math.Min(size, patchCount);
        reporter.Info($"coreset: {size} of {patchCount} patches ({(double)size / patchCount:P1}), {options.ProjectionDimensions}-d int8 projection");
        var coreset = SelectCoreset(patches.Rows, size, options.Seed, device, cancel);
        patches = null; // the projections are no longer needed: free them before the bank is gathered
        ReleaseMemory();
        reporter.Info($"coreset: coverage radius {coreset.CoverageRadius:G5} (projected space); {coreset.PrunedShare:P0} of the row data never needed reading");

        // 3. Bank and Eq. 7 neighbour table.
        var bankRows = spill.Gather(coreset.Indices);
        int b = Math.Min(options.NeighbourCount, size);
        var neighbours = NeighbourTable(bankRows, size, dims, b, device);

        var content = new ModelContent
        {
            Manifest = new Manifest
            {
                Product = options.Product,
                CreatedAtUtc = DateTime.UtcNow,
                TrainerVersion = typeof(ModelBuilder).Assembly.GetName().Version?.ToString(3) ?? "0",
                TrainingImageCount = embedded,
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
            Bank = MemoryBank.FromFloats(bankRows, size, dims, neighbours, b),
            Scoring = new ScoringSpec { NeighbourCount = b, Reweight = options.Reweight, BlurSigma = options.BlurSigma },
        };

        // 4. Calibration on held-out good images.
        var calibrationScores = new List<float>();
        if (calibrationFiles.Count > 0)
        {
            using var scorer = new PatchCoreScorer(content, device);
            int done = 0;
            foreach (var (_, score) in scorer.ScoreFiles(calibrationFiles, loader, options.BatchSize, OnBad, cancel))
            {
                calibrationScores.Add(score.Score);
                reporter.Progress("calibration", ++done, calibrationFiles.Count);
            }
        }
        if (calibrationScores.Count == 0)
            throw new BuildException("no readable calibration images: a threshold needs at least one held-out good image");
        var calibration = ThresholdCalibrator.Calibrate(calibrationScores, options.FalseRejectRate);
        reporter.Info($"calibration: {calibrationScores.Count} good images, scores {calibration.SortedScores[0]:G4}..{calibration.SortedScores[^1]:G4}, threshold {calibration.Threshold:G5}");

        content = content with
        {
            Manifest = content.Manifest with { CalibrationImageCount = calibrationScores.Count, BuildSeconds = clock.Elapsed.TotalSeconds },
            Scoring = content.Scoring with { Threshold = calibration.Threshold },
            Calibration = calibration,
        };
        return new BuildResult(content, skipped, coreset, device.Describe());
    }

    /// <summary>
    /// On the GPU when there is a CUDA device and the build is not told to use the CPU, else on the CPU; the same
    /// indices either way (exact integer distances). The kernel needs only the NVIDIA driver, not ONNX Runtime's CUDA.
    /// </summary>
    private CoresetResult SelectCoreset(QuantizedRows rows, int size, int seed, ExecutionDevice device, CancellationToken cancel)
    {
        if (device.Requested != DeviceKind.Cpu)
        {
            using var gpu = GpuGreedyCoreset.TryOpenCuda(out string reason);
            if (gpu is not null)
            {
                reporter.Info($"coreset: on the GPU ({gpu.Name})");
                return GpuGreedyCoreset.Select(rows, size, seed, gpu.Accelerator, reporter, cancel);
            }
            reporter.Info($"coreset: on the CPU (the GPU kernel cannot run: {reason})");
        }
        return GreedyCoreset.Select(rows, size, seed, reporter, cancel);
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

    private static (List<string> Bank, List<string> Calibration) SplitCalibration(DatasetFolder dataset, BuildOptions options)
    {
        var files = dataset.TrainingImages.ToList();
        if (files.Count == 0) throw new BuildException($"no training images in {dataset.Root}" + (dataset.IsMvtecLayout ? "/train/good" : ""));
        if (options.CalibrationDirectory is { } dir)
        {
            var calibration = DatasetFolder.Open(dir).TrainingImages.ToList();
            if (calibration.Count == 0) throw new BuildException($"no calibration images in {dir}");
            return (files, calibration);
        }
        if (files.Count < 2) throw new BuildException($"only {files.Count} training image in {dataset.Root}: at least 2 are needed (one for the bank, one for calibration)");
        int holdOut = Math.Max(options.MinCalibrationImages, (int)Math.Round(files.Count * options.CalibrationFraction));
        holdOut = Math.Clamp(holdOut, 1, files.Count / 2);
        // A seeded shuffle picks the held-out images, so light or position drift over time is spread over both parts.
        var order = Enumerable.Range(0, files.Count).ToArray();
        new Random(options.Seed).Shuffle(order);
        var held = order.Take(holdOut).ToHashSet();
        return (files.Where((_, i) => !held.Contains(i)).ToList(), files.Where((_, i) => held.Contains(i)).ToList());
    }

    /// <summary>The b nearest bank entries of every bank entry, the entry itself in column 0.</summary>
    private int[] NeighbourTable(float[] bank, int rows, int dims, int b, ExecutionDevice device)
    {
        using var knn = new NearestNeighbourSearch(bank, rows, dims, device);
        var table = new int[rows * b];
        var distances = new float[rows * b];
        const int step = 4096;
        for (int start = 0; start < rows; start += step)
        {
            int n = Math.Min(step, rows - start);
            knn.Search(bank.AsSpan(start * dims, n * dims), n, b, distances.AsSpan(start * b, n * b), table.AsSpan(start * b, n * b));
            reporter.Progress("neighbour table", start + n, rows);
        }
        for (int r = 0; r < rows; r++)
        {
            var row = table.AsSpan(r * b, b);
            int self = row.IndexOf(r);
            if (self == 0) continue;
            // Duplicates can rank another row first; put the entry itself first, keep the nearest others.
            if (self < 0) self = b - 1;
            for (int j = self; j > 0; j--) row[j] = row[j - 1];
            row[0] = r;
        }
        return table;
    }
}
