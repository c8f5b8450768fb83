using EdgePatchCore.Diagnostics;
using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Training;

namespace EdgePatchCore.Trainer.Commands;

/// <summary>`trainer extend`: adds good images to a model without a rebuild (docs/TEACH.md).</summary>
public sealed class ExtendCommand : ICommand
{
    public string Name => "extend";
    public string Summary => "add good images to a model without a rebuild";
    public string Usage => "P.pcb --add DIR [--out P2.pcb] [--max-rows N] [--recalibrate DIR] [--sign KEY.pem]";
    public string Description =>
        "Embeds only the new images and continues the model's greedy coreset selection over their patches, adding rows " +
        "until every new patch is within the model's coverage radius (or --max-rows). The parent's rows, backbone and " +
        "threshold are kept (a bank with more good rows scores no patch higher); --recalibrate DIR sets a new threshold " +
        "from the good images in DIR. The new artifact records its parent and what was added, and gets a new id.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("add", "good images to add: a folder of images, an MVTec-style folder (train/good), or a folder with good/ inside", "DIR"),
        new("out", "the extended model", "P2.pcb", "P.pcb with -extended before .pcb"),
        new("max-rows", "most rows to add; new patches beyond the radius then stay beyond it", "N", "as many as the radius needs"),
        new("recalibrate", "set the threshold from these good images (held out from --add)", "DIR", "keep the parent's threshold"),
        new("sign", "sign the extended artifact with this private key (trainer keygen)", "KEY.pem"),
        CommonOptions.ReleaseVersion, CommonOptions.ExpiresIn, CommonOptions.Device, CommonOptions.Batch,
        new("temp-dir", "where the new images' features are spilled", "DIR", "the system temp folder"),
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count != 1) throw new UsageException("expected one artifact file (the model to extend)");
        string input = args.Positional[0];
        string add = args.Require("add");
        string output = args.Get("out", Path.ChangeExtension(input, null) + "-extended.pcb");
        if (Path.GetFullPath(output) == Path.GetFullPath(input)) throw new UsageException("--out must name a new file: the parent model stays as " +
            "it is");
        var release = CommonOptions.ParseRelease(args);
        if (!args.Has("sign") && (args.Has("release-version")
            || args.Has("expires-in"))) throw new UsageException("--release-version and --expires-in need --sign KEY.pem");
        var options = new ExtendOptions
        {
            AddDirectory = add,
            MaxRows = args.OptionalInt("max-rows", 0),
            RecalibrateDirectory = args.Get("recalibrate"),
            Device = CommonOptions.ParseDevice(args),
            BatchSize = CommonOptions.ParseBatch(args),
            TempDirectory = args.Get("temp-dir"),
        };
        if (!Directory.Exists(add)) throw new BuildException($"folder to add not found: {add}");
        if (options.RecalibrateDirectory is { } cal && !Directory.Exists(cal)) throw new BuildException($"calibration folder not found: {cal}");
        var parent = ArtifactFile.Read(input);
        CommonOptions.CheckWritable(output);
        using var signingKey = args.Get("sign") is { } keyPath ? SigningKeys.LoadPrivate(keyPath) : null;

        var clock = Stopwatch.StartNew();
        var console = context.CreateProgress();
        var result = new ModelExtender(console, console).Extend(parent, options, context.Cancel);
        context.Cancel.ThrowIfCancellationRequested();
        var content = result.Content with { Manifest = result.Content.Manifest with { BuildSeconds = clock.Elapsed.TotalSeconds } };
        string id = ArtifactFile.Write(output, content, signingKey, release);

        var o = context.Out;
        o.WriteLine($"wrote {output} (artifact {id}, parent {parent.Id}, {new FileInfo(output).Length / 1e6:F1} MB)");
        o.WriteLine($"  added images       {result.AddedImages} ({result.AddedPatches} patches; {result.PatchesBeyondRadius} beyond the coverage " +
            $"radius {parent.Content.Manifest.CoverageRadius:G5})");
        o.WriteLine($"  memory bank        {parent.Content.Bank.Rows} + {result.AddedRows} = {content.Bank.Rows} rows" +
                    (result.BudgetReached ? " (--max-rows reached: some new patches stay beyond the radius)" : ""));
        o.WriteLine($"  neighbour table    {result.NeighbourListsChanged} parent rows gained a nearer neighbour");
        o.WriteLine($"  threshold          {content.Scoring.Threshold:G5}"
            + (options.RecalibrateDirectory is null ? " (the parent's)" : $" (from {content.Manifest.CalibrationImageCount} images in " +
                $"{options.RecalibrateDirectory})"));
        o.WriteLine($"  device             {result.Device}");
        o.WriteLine($"  time               {clock.Elapsed.TotalSeconds:F1} s, peak memory {CommonOptions.PeakMemory()}");
        if (result.Skipped.Count > 0)
        {
            o.WriteLine($"  skipped {result.Skipped.Count} unreadable file(s):");
            foreach (var s in result.Skipped) o.WriteLine($"    {s.Reason}");
        }
        return TrainerApp.ExitOk;
    }
}
