using EdgePatchCore.Artifacts;
using EdgePatchCore.Coreset;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Evaluation;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tests.Cli;
using EdgePatchCore.Trainer;
using EdgePatchCore.Training;
using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Training;

/// <summary>
/// A gasket model built on images of one conveyor belt, and the same product on a new, browner belt: a nominal
/// drift that rejects a third of the good parts. 20 of the new belt's images are the ones an operator teaches.
/// </summary>
public sealed class DriftFixture : IDisposable
{
    public TempFolder Folder { get; } = new();
    public string Base => Folder.File("base");
    public string Bright => Folder.File("bright");
    public string Parent => Folder.File("parent.pcb");

    public DriftFixture()
    {
        new GasketGenerator(new GasketOptions { Seed = 1, TrainCount = 100, TestGoodCount = 20, TestPerDefect = 4 }).Write(Base);
        new GasketGenerator(new GasketOptions { Seed = 2, TrainCount = 20, TestGoodCount = 40, TestPerDefect = 0, Belt = (150, 140, 110) }).Write(Bright);
        var r = TrainerRunner.Run("build", "--product", "gasket", "--data", Base, "--out", Parent, "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
    }

    public void Dispose() => Folder.Dispose();
}

public class ModelExtenderTests(DriftFixture fixture) : IClassFixture<DriftFixture>
{
    /// <summary>The greedy selection continued from fixed centres, written as plainly as possible: the reference.</summary>
    private static List<int> NaiveContinue(QuantizedRows centres, QuantizedRows candidates, int radiusSquared, int budget)
    {
        static long Distance(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
        {
            long s = 0;
            for (int k = 0; k < a.Length; k++) { long d = a[k] - b[k]; s += d * d; }
            return s;
        }
        var min = new long[candidates.Count];
        for (int p = 0; p < candidates.Count; p++)
        {
            min[p] = long.MaxValue;
            for (int c = 0; c < centres.Count; c++) min[p] = Math.Min(min[p], Distance(candidates.Row(p), centres.Row(c)));
        }
        var added = new List<int>();
        while (added.Count < budget)
        {
            int best = 0;
            for (int p = 1; p < min.Length; p++) if (min[p] > min[best]) best = p; // ties: lowest index
            if (min[best] <= radiusSquared) break;
            added.Add(best);
            for (int p = 0; p < min.Length; p++) min[p] = Math.Min(min[p], Distance(candidates.Row(p), candidates.Row(best)));
        }
        return added;
    }

    [Theory]
    [InlineData(50, 400, 16, 1, int.MaxValue)]
    [InlineData(200, 3000, 128, 2, int.MaxValue)]
    [InlineData(100, 2000, 128, 3, 25)] // a row budget stops it early
    public void Continuing_the_selection_equals_the_naive_greedy_with_the_bank_as_fixed_centres(int bank, int candidates, int d, int seed, int budget)
    {
        var all = Coreset.GreedyCoresetTests.RandomPoints(bank + candidates, d, seed, withDuplicates: true);
        var centres = all.Subset(Enumerable.Range(0, bank).ToArray());
        var points = all.Subset(Enumerable.Range(bank, candidates).ToArray());
        var naiveMin = GreedyCoreset.DistancesToCentres(points, centres, Enumerable.Range(0, bank).ToArray());
        int radius = naiveMin.Order().ElementAt(candidates * 3 / 4); // a quarter of the candidates lie beyond it
        var expected = NaiveContinue(centres, points, radius, budget);
        var actual = GreedyCoreset.ExtendToRadius(points, GreedyCoreset.DistancesToCentres(points, centres, Enumerable.Range(0, bank).ToArray()), radius,
                                                  budget == int.MaxValue ? candidates : budget);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    private static ExtendResult Extend(string parent, string add, string? recalibrate = null) =>
        new ModelExtender(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Extend(ArtifactFile.Read(parent),
            new ExtendOptions { AddDirectory = add, Device = DeviceKind.Cpu, RecalibrateDirectory = recalibrate });

    private static float[] Scores(ModelContent content, IReadOnlyList<string> files, bool reweight = true)
    {
        using var scorer = new PatchCoreScorer(content with { Scoring = content.Scoring with { Reweight = reweight } },
                                               new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Float32);
        var scores = new float[files.Count];
        foreach (var (i, s) in scorer.ScoreFiles(files, new ImageLoader(), 8, (_, r) => throw new InvalidOperationException(r))) scores[i] = s.Score;
        return scores;
    }

    [Fact]
    public void Extending_keeps_the_parent_rows_adds_what_the_radius_needs_and_updates_the_neighbour_table()
    {
        var parent = ArtifactFile.Read(fixture.Parent);
        var result = Extend(fixture.Parent, Path.Combine(fixture.Bright, "train", "good"));
        var child = result.Content;
        Assert.Equal(20, result.AddedImages);
        Assert.True(result.AddedRows > 0 && result.PatchesBeyondRadius >= result.AddedRows);
        Assert.Equal(parent.Content.Bank.Rows + result.AddedRows, child.Bank.Rows);
        Assert.Equal(parent.Content.Bank.Data, child.Bank.Data.AsSpan(0, parent.Content.Bank.Data.Length).ToArray()); // parent rows unchanged

        // The same selection space, so a later extension continues this one.
        Assert.Equal((parent.Content.Selection!.Scale, parent.Content.Selection.RadiusSquared), (child.Selection!.Scale, child.Selection.RadiusSquared));
        Assert.Equal(parent.Content.Selection.Projection, child.Selection.Projection);

        // The neighbour table equals the one a full computation on the extended bank gives (up to exact ties).
        var bank = child.Bank.ToFloats();
        int rows = child.Bank.Rows, dims = child.Bank.Columns, b = child.Bank.NeighbourCount;
        var full = NeighbourTable.Build(bank, rows, dims, b, new ExecutionDevice(DeviceKind.Cpu), null);
        var table = child.Bank.NeighbourIndices();
        int differing = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < b; j++)
            {
                if (table[r * b + j] == full[r * b + j]) continue;
                float a = System.Numerics.Tensors.TensorPrimitives.Distance(bank.AsSpan(r * dims, dims), bank.AsSpan(table[r * b + j] * dims, dims));
                float e = System.Numerics.Tensors.TensorPrimitives.Distance(bank.AsSpan(r * dims, dims), bank.AsSpan(full[r * b + j] * dims, dims));
                Assert.True(Math.Abs(a - e) <= 1e-3f * Math.Max(1, e), $"row {r}, neighbour {j}: {table[r * b + j]} at {a} vs {full[r * b + j]} at {e}");
                differing++;
            }
        }
        Assert.True(differing <= rows * b / 1000, $"{differing} entries differ (ties only)");
        Assert.True(result.NeighbourListsChanged > 0);

        // Lineage: a new id, the parent's id, what was added.
        string path = fixture.Folder.File("child.pcb");
        string id = ArtifactFile.Write(path, child, null, null);
        var read = ArtifactFile.Read(path);
        Assert.NotEqual(parent.Id, id);
        Assert.Equal(parent.Id, read.Content.Manifest.ParentId);
        var step = Assert.Single(read.Content.Manifest.Extensions!);
        Assert.Equal((20, result.AddedRows, false), (step.AddedImages, step.AddedRows, step.Recalibrated));
        Assert.Equal(parent.Content.Scoring.Threshold, read.Content.Scoring.Threshold); // kept without --recalibrate
    }

    [Fact]
    public void Adding_good_rows_never_raises_a_nearest_neighbour_score_so_the_false_reject_rate_at_the_old_threshold_cannot_rise()
    {
        var parent = ArtifactFile.Read(fixture.Parent).Content;
        var child = Extend(fixture.Parent, Path.Combine(fixture.Bright, "train", "good")).Content;
        var files = DatasetFolder.Open(fixture.Base).TestImages.Concat(DatasetFolder.Open(fixture.Bright).TestImages).Select(t => t.Path).ToList();
        // s* (Eq. 7 off): the image's largest nearest-neighbour distance. A bank that only gains rows can only lower
        // every patch's nearest distance, so every image's s*, so the number of good images at or above any threshold.
        var before = Scores(parent, files, reweight: false);
        var after = Scores(child, files, reweight: false);
        for (int i = 0; i < files.Count; i++) Assert.True(after[i] <= before[i] * (1 + 1e-5f), $"{files[i]}: {before[i]} -> {after[i]}");
        Assert.Contains(after.Zip(before), p => p.First < p.Second);
    }

    [Fact]
    public void Teaching_the_drifted_nominal_brings_its_false_rejects_down_and_keeps_detection()
    {
        var parent = ArtifactFile.Read(fixture.Parent).Content;
        var child = Extend(fixture.Parent, Path.Combine(fixture.Bright, "train", "good")).Content;
        var brightGood = DatasetFolder.Open(fixture.Bright).TestImages.Select(t => t.Path).ToList();
        float threshold = parent.Scoring.Threshold;
        int rejectedBefore = Scores(parent, brightGood).Count(s => s >= threshold);
        int rejectedAfter = Scores(child, brightGood).Count(s => s >= threshold);
        Assert.True(rejectedBefore >= brightGood.Count / 4, $"the drift should reject many good parts: {rejectedBefore} of {brightGood.Count}");
        Assert.True(rejectedAfter <= rejectedBefore / 2, $"{rejectedBefore} -> {rejectedAfter} of {brightGood.Count}");

        var test = DatasetFolder.Open(fixture.Base).TestImages;
        var defective = test.Select(t => t.IsDefective).ToArray();
        double aurocBefore = Metrics.Auroc(Scores(parent, test.Select(t => t.Path).ToList()), defective)!.Value;
        double aurocAfter = Metrics.Auroc(Scores(child, test.Select(t => t.Path).ToList()), defective)!.Value;
        Assert.True(aurocAfter >= aurocBefore - 0.01, $"image AUROC on the original defects {aurocBefore:F3} -> {aurocAfter:F3}");
    }

    [Fact]
    public void The_extended_bank_holds_exactly_the_patches_a_naive_greedy_picks_from_the_new_images()
    {
        // Two new images: small enough for the plain reference (every new patch against every parent row).
        string two = fixture.Folder.File("two");
        Directory.CreateDirectory(two);
        foreach (var f in Directory.GetFiles(Path.Combine(fixture.Bright, "train", "good")).Order().Take(2)) File.Copy(f, Path.Combine(two, Path.GetFileName(f)));
        var parent = ArtifactFile.Read(fixture.Parent);
        var child = Extend(fixture.Parent, two).Content;

        // The reference, from the stored selection space: embed, project, quantize with the stored scale, continue naively.
        var c = parent.Content;
        var space = c.Selection!;
        var projection = RandomProjection.FromMatrix(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(space.Projection).ToArray(), space.InputDimensions, space.OutputDimensions);
        using var extractor = new FeatureExtractor(c.Backbone, c.Input, new ExecutionDevice(DeviceKind.Cpu), c.Backbone.Precision);
        var batch = new ImageBatchReader(new ImageLoader(), c.Input, 8).Read(Directory.GetFiles(two).Order().ToList(), (_, r) => throw new InvalidOperationException(r)).Single();
        var features = extractor.Extract(batch.Data, batch.Count);
        int patches = batch.Count * extractor.PatchesPerImage, dims = extractor.Dimensions;
        var candidates = ModelExtender.Quantized(projection, features, patches, dims, space.Scale);
        var centres = ModelExtender.Quantized(projection, c.Bank.ToFloats(), c.Bank.Rows, dims, space.Scale);
        var expected = NaiveContinue(centres, candidates, space.RadiusSquared, int.MaxValue);

        Assert.NotEmpty(expected);
        Assert.Equal(c.Bank.Rows + expected.Count, child.Bank.Rows);
        var bank = child.Bank.ToFloats();
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(features.AsSpan(expected[i] * dims, dims).ToArray(), bank.AsSpan((c.Bank.Rows + i) * dims, dims).ToArray());
    }

    [Fact]
    public void Recalibrating_sets_the_threshold_from_the_given_good_images()
    {
        var parent = ArtifactFile.Read(fixture.Parent).Content;
        var child = Extend(fixture.Parent, Path.Combine(fixture.Bright, "train", "good"), recalibrate: Path.Combine(fixture.Bright, "test", "good")).Content;
        Assert.Equal(40, child.Manifest.CalibrationImageCount);
        Assert.Equal(child.Calibration!.Threshold, child.Scoring.Threshold);
        Assert.NotEqual(parent.Scoring.Threshold, child.Scoring.Threshold);
        Assert.Equal(parent.Calibration!.TargetFalseRejectRate, child.Calibration.TargetFalseRejectRate);
        Assert.True(Assert.Single(child.Manifest.Extensions!).Recalibrated);
    }

    [Fact]
    public void Extend_refuses_bad_input_with_one_line()
    {
        string output = fixture.Folder.File("cli-child.pcb");
        var ok = TrainerRunner.Run("extend", fixture.Parent, "--add", Path.Combine(fixture.Bright, "train", "good"), "--out", output, "--device", "cpu");
        Assert.True(ok.ExitCode == 0, ok.Error);
        Assert.Contains($"parent {ArtifactFile.Read(fixture.Parent).Id}", ok.Out);

        var same = TrainerRunner.Run("extend", fixture.Parent, "--add", fixture.Bright, "--out", fixture.Parent);
        Assert.Equal(TrainerApp.ExitUsage, same.ExitCode);
        var noAdd = TrainerRunner.Run("extend", fixture.Parent);
        Assert.Equal(TrainerApp.ExitUsage, noAdd.ExitCode);
        string empty = fixture.Folder.File("empty");
        Directory.CreateDirectory(empty);
        var none = TrainerRunner.Run("extend", fixture.Parent, "--add", empty, "--out", fixture.Folder.File("x.pcb"));
        Assert.NotEqual(0, none.ExitCode);
        Assert.Contains("no images to add", none.Error);

        // A model that does not record its selection space cannot be extended exactly: refused, not approximated.
        string old = fixture.Folder.File("old.pcb");
        ArtifactFile.Write(old, ArtifactFile.Read(fixture.Parent).Content with { Selection = null }, null, null);
        var refused = TrainerRunner.Run("extend", old, "--add", fixture.Bright, "--out", fixture.Folder.File("y.pcb"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("rebuild it once", refused.Error);
        foreach (var r in new[] { same, noAdd, none, refused })
        {
            r.AssertNoStackTrace();
            Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error", StringComparison.Ordinal));
        }
    }
}
