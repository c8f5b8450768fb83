using EdgePatchCore.Imaging;
using EdgePatchCore.Embedding;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class InspectCommand : ICommand
{
    public string Name => "inspect";
    public string Summary => "show what an artifact contains and verify its checksum";
    public string Usage => "P.pcb";
    public string Description => "Reads the artifact, verifies its SHA-256 and consistency, and prints its manifest.";
    public IReadOnlyList<OptionSpec> Options { get; } = [];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count != 1) throw new UsageException("expected one artifact file");
        string path = args.Positional[0];
        var a = ArtifactFile.Read(path);
        var c = a.Content;
        var m = c.Manifest;
        var o = context.Out;
        o.WriteLine($"{path}: EdgePatchCore artifact version {a.Version}, id {a.Id}, {a.SizeBytes / 1e6:F1} MB, checksum OK");
        o.WriteLine($"  product             {m.Product}");
        o.WriteLine($"  created             {m.CreatedAtUtc:yyyy-MM-dd HH:mm:ss} UTC by trainer {m.TrainerVersion} in {m.BuildSeconds:F0} s");
        o.WriteLine($"  training data       {m.TrainingImageCount} images, {m.TrainingPatchCount} patches, fingerprint {m.DatasetFingerprint}");
        if (m.ParentId is not null)
            foreach (var x in m.Extensions ?? [])
                o.WriteLine($"  extended            from {x.ParentId} on {x.AtUtc:yyyy-MM-dd HH:mm} UTC: {x.AddedImages} images ({x.AddedPatches} " +
                    $"patches, fingerprint {x.AddedFingerprint}), +{x.AddedRows} rows{(x.Recalibrated ? ", threshold recalibrated" : "")}");
        o.WriteLine($"  input               {c.Input}");
        if (c.Tiling is { } tiling) o.WriteLine($"  tiling              {tiling}");
        if (c.WholeFrame is { } whole)
            o.WriteLine($"  whole-frame scale   {whole.Bank.Rows} x {whole.Bank.Columns} bank of the frame resized to {c.Input.Width} x " +
                $"{c.Input.Height}{Flattened(whole.Flattening)}, threshold {whole.Threshold:G5} (tiles {whole.TilesThreshold:G5}; the larger " +
                "of the two, each over its own, decides)");
        else if (c.Tiling is not null) o.WriteLine("  whole-frame scale   none (tiles only)");
        o.WriteLine($"  backbone            {c.Backbone.Source}, {c.Backbone.Onnx.Length / 1e6:F1} MB, normalisation {c.Backbone.Normalization}");
        o.WriteLine($"  backbone precision  bank embedded in {BackbonePrecisions.Name(c.Backbone.Precision)}; " + (c.Backbone.Ranges is { } ranges
            ? $"int8 activation ranges of {ranges.Tensors.Length} tensors from {ranges.Inputs} training inputs"
            : "no int8 calibration (the int8 backbone needs a rebuild)"));
        o.WriteLine($"  embedding           " +
            $"{string.Join(" + ", c.Embedding.Layers.Zip(c.Backbone.LayerChannels, (l, ch) => $"{ResNet18.DisplayName(l)} ({ch})"))} = " +
            $"{c.Embedding.Dimensions} dims on a {c.Embedding.GridWidth} x {c.Embedding.GridHeight} grid, " +
            $"{c.Embedding.PatchSize}x{c.Embedding.PatchSize} neighbourhood, {c.Backbone.Aggregation.ToString().ToLowerInvariant()} aggregation");
        o.WriteLine($"  memory bank         {c.Bank.Rows} x {c.Bank.Columns} {c.Bank.ElementType}, coverage radius {m.CoverageRadius:G5}, " +
            $"neighbour table b = {c.Bank.NeighbourCount}");
        var cellSizes = c.Bank.Cells?.CellSizes();
        o.WriteLine(c.Bank.Cells is { } cells && cellSizes is var (largest, mean)
            ? $"  cell index          {cells.Centers} k-means cells, " +
              $"{mean:F1} rows a cell on average, the largest {largest}: the bounded search is the default"
            : "  cell index          none: scored with the exhaustive search (rebuild or extend the model for the bounded search)");
        o.WriteLine($"  scoring             k = {c.Scoring.K}, Eq. 7 re-weighting {(c.Scoring.Reweight ? "on" : "off")} (b = " +
            $"{c.Scoring.NeighbourCount}), blur sigma {c.Scoring.BlurSigma}");
        o.WriteLine($"  threshold           {c.Scoring.Threshold:G5} ({c.Scoring.Normalisation} normalisation)");
        if (c.Calibration is { } cal)
            o.WriteLine($"  calibration         {cal.Method}; scores {cal.SortedScores[0]:G4}..{cal.SortedScores[^1]:G4}, mean {cal.Mean:G4}, std " +
                $"{cal.Std:G3}, target false-reject rate {cal.TargetFalseRejectRate:P1}");
        o.WriteLine($"  build options       {string.Join(", ", m.BuildOptions.Select(kv => $"{kv.Key}={kv.Value}"))}");
        o.WriteLine(a.Signature switch
        {
            null => "  signature           none (sign with: trainer sign P.pcb --key KEY.pem)",
            var sig when sig.IsValidFor(a.Hash) => $"  signature           {sig.Algorithm}, key {sig.KeyId}: valid",
            var sig => $"  signature           {sig.Algorithm}, key {sig.KeyId}: INVALID (modified after signing)",
        });
        if (a.Signature is { } signed)
        {
            if (signed.Statement is null)
                o.WriteLine("  release             none: signed over the payload alone, which agents refuse (sign it again with trainer sign)");
            else if (a.Release is { } r)
            {
                string state = r.IsExpired(DateTime.UtcNow) ? "EXPIRED" : "valid";
                string product = r.Product == m.Product ? "" : $" (the model is for {m.Product}: agents refuse it)";
                o.WriteLine($"  release             version {r.Version} of {r.Product}{product}, issued {r.IssuedAtUtc:yyyy-MM-dd HH:mm} UTC, " +
                            $"expires {r.ExpiresAtUtc:yyyy-MM-dd HH:mm} UTC ({state}), payload SHA-256 " +
                                $"{Convert.ToHexString(r.PayloadSha256).ToLowerInvariant()[..16]}...");
            }
            else o.WriteLine("  release             DAMAGED release statement");
        }
        if (a.Signature is { } signature && !signature.IsValidFor(a.Hash)) return TrainerApp.ExitFailure;
        return TrainerApp.ExitOk;
    }

    private static string Flattened(ProfileFlattening flattening) =>
        flattening == ProfileFlattening.Off ? "" : $", the {(flattening == ProfileFlattening.Rows ? "rows'" : "columns'")} profile flattened";
}
