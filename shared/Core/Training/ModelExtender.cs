using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Calibration;
using EdgePatchCore.Coreset;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Tiling;
using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Search;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Training;

/// <summary>
/// `trainer extend`: adds good images to a model without rebuilding it. The greedy k-center selection continues
/// where the build stopped, in the build's own int8 space (<see cref="SelectionSpace"/>): the bank's rows are the
/// already chosen centres, the new images' patches the candidates, and the farthest candidate is added while it
/// lies beyond the model's coverage radius (or until the row budget). So every new patch ends within the radius
/// every training patch of the parent was within, and the parent's rows are kept as they are. The Eq. 7
/// neighbour table changes only for rows that gain a nearer neighbour among the added rows, and for the added rows.
/// </summary>
public sealed class ModelExtender(ILogger log, IProgress<StageProgress>? progress = null)
{
    public ExtendResult Extend(Artifact parent, ExtendOptions options, CancellationToken cancel = default)
    {
        var c = parent.Content;
        var space = c.Selection ?? throw new BuildException(
            $"model {parent.Id} does not record the space its coreset was selected in (built by an older trainer): rebuild it once with this " +
                $"trainer to extend it");
        // A folder of images, an MVTec-style folder (train/good), or what `trainer collect` writes (DIR/good).
        string addFolder = Directory.Exists(Path.Combine(options.AddDirectory, DatasetFolder.GoodType)) ? Path.Combine(options.AddDirectory,
            DatasetFolder.GoodType) : options.AddDirectory;
        var files = DatasetFolder.Open(addFolder).TrainingImages.Where(ImageLoader.HasImageExtension).ToList();
        if (files.Count == 0) throw new BuildException($"no images to add in {options.AddDirectory}");
        // A teach set collected from an agent (trainer collect) says which product its frames are: never another product's.
        string manifest = Path.Combine(options.AddDirectory, "manifest.json");
        if (File.Exists(manifest))
        {
            var (products, specs) = Collected(manifest);
            if (products.FirstOrDefault(p => p != c.Manifest.Product) is { } other)
                throw new BuildException($"the frames in {options.AddDirectory} are of product '{other}', the model {parent.Id} is for " +
                    $"'{c.Manifest.Product}'");
            // Frames taught under a model of another backbone or input spec: that model is the one to extend.
            if (specs.FirstOrDefault(s => s != c.FeatureSpec()) is { } spec)
                throw new BuildException($"the frames in {options.AddDirectory} were judged by a model with another backbone or input ({spec}); " +
                    $"{parent.Id} has {c.FeatureSpec()}");
        }
        var skipped = new List<SkippedFile>();
        void OnBad(string path, string reason) { skipped.Add(new SkippedFile(path, reason)); log.LogWarning($"skipped: {reason}"); }

        var device = new ExecutionDevice(options.Device);
        // The bank's own precision, whatever this machine would choose: new rows must be comparable with the old ones.
        using var extractor = new FeatureExtractor(c.Backbone, c.Input, device, c.Backbone.Precision);
        int dims = extractor.Dimensions, perImage = extractor.PatchesPerImage, d = space.OutputDimensions;
        if (dims != c.Bank.Columns || extractor.GridWidth != c.Embedding.GridWidth || extractor.GridHeight != c.Embedding.GridHeight)
            throw new BuildException($"model {parent.Id}: its backbone gives {dims}-d patches on a {extractor.GridWidth}x{extractor.GridHeight} " +
                $"grid, its bank has {c.Bank.Columns} columns");
        var projection = RandomProjection.FromMatrix(MemoryMarshal.Cast<byte, float>(space.Projection).ToArray(), space.InputDimensions, d);
        log.LogInformation($"extending {c.Manifest.Product} model {parent.Id} ({c.Bank.Rows} rows) with {files.Count} images; device " +
            $"{device.Describe()}");

        // 1. Embed the new images: full rows to a spill file, int8 rows in the parent's selection space.
        using var spill = new FeatureSpill(options.TempDirectory ?? Path.GetTempPath(), dims);
        var projected = new List<Half>();
        float[] features = [], scratch = [];
        int images = 0, patchRows = 0;
        void Embed(float[] inputs, int count)
        {
            int rows = count * perImage;
            if (features.Length < rows * dims) features = new float[rows * dims];
            if (scratch.Length < rows * d) scratch = new float[rows * d];
            extractor.Extract(inputs, count, features);
            spill.Append(features.AsSpan(0, rows * dims));
            Project(projection, features.AsSpan(0, rows * dims), rows, scratch, projected);
            patchRows += rows;
        }
        if (c.Tiling is { } tiling)
        {
            // Every tile of every image; the bank is position-free, so frames of any size may be added.
            var inputs = new float[TileLayout.TilesPerRun * extractor.InputLength];
            foreach (var (index, frame) in new TiledFrameReader(new ImageLoader(), tiling).Read(files, OnBad, cancel: cancel))
            {
                for (int first = 0; first < frame.Layout.Count; first += TileLayout.TilesPerRun)
                {
                    int n = Math.Min(TileLayout.TilesPerRun, frame.Layout.Count - first);
                    frame.WriteTiles(first, n, inputs);
                    Embed(inputs, n);
                }
                images++;
                progress?.Report(new StageProgress("embedding", index + 1, files.Count, $"{images} images"));
            }
        }
        else
        {
            foreach (var batch in new ImageBatchReader(new ImageLoader(), c.Input, options.BatchSize).Read(files, OnBad, cancel))
            {
                Embed(batch.Data, batch.Count);
                images += batch.Count;
                progress?.Report(new StageProgress("embedding", batch.SourceIndices[^1] + 1, files.Count, $"{images} images"));
            }
        }
        if (images == 0) throw new BuildException($"none of the {files.Count} images in {options.AddDirectory} could be read");
        var candidates = QuantizedRows.Quantize(CollectionsMarshal.AsSpan(projected), patchRows, d, space.Scale);

        // 2. The parent's rows, in the same space: exactly the int8 rows its selection chose.
        var bank = c.Bank.ToFloats();
        var centres = Quantized(projection, bank, c.Bank.Rows, dims, space.Scale);

        // 3. Continue the greedy selection: distances to the chosen centres, then farthest-first beyond the radius.
        var minDistances = GreedyCoreset.DistancesToCentres(candidates, centres, Enumerable.Range(0, centres.Count).ToArray(), cancel: cancel);
        int beyond = minDistances.Count(x => x > space.RadiusSquared);
        int budget = options.MaxRows ?? candidates.Count;
        var added = GreedyCoreset.ExtendToRadius(candidates, minDistances, space.RadiusSquared, budget, cancel: cancel);
        bool budgetReached = added.Count == budget && added.Count < beyond;
        log.LogInformation($"selection: {beyond} of {candidates.Count} new patches lie beyond the coverage radius; {added.Count} rows added" +
                      (budgetReached ? $" (the budget of {budget}: some new patches stay beyond the radius)" : ""));

        // 4. The new bank: the parent's rows unchanged, the added rows after them; the Eq. 7 table where it changes.
        int oldRows = c.Bank.Rows, rowsNow = oldRows + added.Count, b = c.Bank.NeighbourCount;
        var addedRows = spill.Gather(added);
        var newBank = new float[(long)rowsNow * dims];
        bank.CopyTo(newBank, 0);
        addedRows.CopyTo(newBank, (long)oldRows * dims);
        var (table, changed) = UpdateNeighbours(newBank, oldRows, c.Bank.NeighbourIndices(), added.Count, dims, b, device);

        var fingerprint = DatasetFolder.Fingerprint(files.Where(f => !skipped.Any(s => s.Path == f)));
        var content = c with
        {
            Manifest = c.Manifest with
            {
                CreatedAtUtc = DateTime.UtcNow,
                TrainingImageCount = c.Manifest.TrainingImageCount + images,
                TrainingPatchCount = c.Manifest.TrainingPatchCount + candidates.Count,
                ParentId = parent.Id,
                Extensions = [.. c.Manifest.Extensions ?? [], new ModelExtension
                {
                    ParentId = parent.Id, AtUtc = DateTime.UtcNow, AddedImages = images, AddedFingerprint = fingerprint,
                    AddedRows = added.Count, AddedPatches = candidates.Count, Recalibrated = options.RecalibrateDirectory is not null,
                }],
            },
            Bank = MemoryBank.FromFloats(newBank, rowsNow, dims, table, b) with
            {
                Cells = BankCellIndex.Build(newBank, rowsNow, dims, device), // the added rows follow the parent's: still greedy order
            },
        };

        // 5. The threshold: the parent's, or one from the recalibration images.
        if (options.RecalibrateDirectory is { } dir)
        {
            var calibrationFiles = DatasetFolder.Open(dir).TrainingImages.ToList();
            if (calibrationFiles.Count == 0) throw new BuildException($"no calibration images in {dir}");
            var scores = new List<float>();
            using (var scorer = new PatchCoreScorer(content, device, BankPrecision.Auto))
                foreach (var (_, score) in scorer.ScoreFiles(calibrationFiles, new ImageLoader(), options.BatchSize, OnBad, cancel))
                {
                    scores.Add(score.Score);
                    progress?.Report(new StageProgress("calibration", scores.Count, calibrationFiles.Count));
                }
            if (scores.Count == 0) throw new BuildException($"no readable calibration images in {dir}");
            var calibration = ThresholdCalibrator.Calibrate(scores, c.Calibration?.TargetFalseRejectRate ?? BuildOptions.DefaultFalseRejectRate);
            content = content with
            {
                Manifest = content.Manifest with { CalibrationImageCount = scores.Count },
                Scoring = content.Scoring with { Threshold = calibration.Threshold },
                Calibration = calibration,
            };
        }
        return new ExtendResult(content, images, candidates.Count, beyond, added.Count, budgetReached, changed, skipped, device.Describe());
    }

    /// <summary>Projects rows (count x D) and appends them as float16, as the build's embedding pass stores them before quantizing.</summary>
    private static void Project(RandomProjection projection, ReadOnlySpan<float> rows, int count, float[] scratch, List<Half> into)
    {
        int n = count * projection.OutputDimensions;
        projection.Project(rows, count, scratch);
        var span = scratch.AsSpan(0, n);
        TensorPrimitives.Clamp(span, -65504f, 65504f, span);
        var half = new Half[n];
        TensorPrimitives.ConvertToHalf(span, half);
        into.AddRange(half);
    }

    /// <summary>Rows (count x D floats) in the selection space (int8 with the given scale).</summary>
    public static QuantizedRows Quantized(RandomProjection projection, float[] rows, int count, int dims, float scale)
    {
        var halves = new List<Half>(count * projection.OutputDimensions);
        const int step = 4096;
        var scratch = new float[step * projection.OutputDimensions];
        for (int start = 0; start < count; start += step)
        {
            int n = Math.Min(step, count - start);
            Project(projection, rows.AsSpan(start * dims, n * dims), n, scratch, halves);
        }
        return QuantizedRows.Quantize(CollectionsMarshal.AsSpan(halves), count, projection.OutputDimensions, scale);
    }

    /// <summary>
    /// The neighbour table of the extended bank. A parent row's list changes only when an added row is nearer than
    /// its farthest listed neighbour: its b nearest among the added rows are merged with its list by distance. An
    /// added row gets its b nearest in the whole new bank. Returns the table and how many parent rows changed.
    /// </summary>
    /// <param name="bank">the extended bank, (parent rows + added rows) x dims</param>
    private (int[] Table, int Changed) UpdateNeighbours(float[] bank, int oldRows, int[] oldTable, int addedCount, int dims, int b,
        ExecutionDevice device)
    {
        int rowsNow = oldRows + addedCount;
        var addedRows = bank[(oldRows * dims)..(rowsNow * dims)];
        var table = new int[rowsNow * b];
        oldTable.CopyTo(table, 0);
        if (addedCount == 0) return (table, 0);
        int changed = 0;
        if (b > 1)
        {
            int k = Math.Min(b, addedCount);
            var nearAdded = new int[oldRows * k];
            var nearDistances = new float[oldRows * k];
            using (var knn = BankSearches.Create(addedRows, addedCount, dims, device))
                NeighbourTable.Search(knn, bank, oldRows, dims, k, nearAdded, progress, nearDistances);
            var merged = new List<(float Distance, int Row)>(b + k);
            for (int r = 0; r < oldRows; r++)
            {
                var row = bank.AsSpan(r * dims, dims);
                var list = table.AsSpan(r * b, b);
                float farthest = TensorPrimitives.Distance(row, bank.AsSpan(list[b - 1] * dims, dims));
                if (nearDistances[r * k] >= farthest) continue; // no added row is nearer than its farthest neighbour
                merged.Clear();
                for (int j = 1; j < b; j++) merged.Add((TensorPrimitives.Distance(row, bank.AsSpan(list[j] * dims, dims)), list[j]));
                for (int j = 0; j < k; j++) merged.Add((nearDistances[r * k + j], oldRows + nearAdded[r * k + j]));
                merged.Sort((x, y) => x.Distance != y.Distance ? x.Distance.CompareTo(y.Distance) : x.Row.CompareTo(y.Row));
                list[0] = r;
                for (int j = 1; j < b; j++) list[j] = merged[j - 1].Row;
                changed++;
            }
        }
        using (var knn = BankSearches.Create(bank, rowsNow, dims, device))
            NeighbourTable.Search(knn, addedRows, addedCount, dims, b, table.AsSpan(oldRows * b, addedCount * b), progress);
        for (int r = oldRows; r < rowsNow; r++) ImageScoreReweighting.SelfFirst(table.AsSpan(r * b, b), r);
        return (table, changed);
    }

    /// <summary>The products and feature specs named by a `trainer collect` manifest (frames[].product, frames[].featureSpec).</summary>
    private static (List<string> Products, List<string> Specs) Collected(string manifest)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(manifest));
            if (!json.RootElement.TryGetProperty("frames", out var frames)) return ([], []);
            List<string> Values(string name) => frames.EnumerateArray()
                .Select(f => f.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null)
                .OfType<string>().Distinct().ToList();
            return (Values("product"), Values("featureSpec"));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new BuildException($"{manifest} is not a collect manifest: {e.Message}");
        }
    }
}
