using EdgePatchCore.Synthetic;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class SynthCommand : ICommand
{
    public string Name => "synth";
    public string Summary => "generate a synthetic product dataset (MVTec layout) for demos and tests";
    public string Usage => "--product gasket [--out DIR] [--seed N] [options]";
    public string Description =>
        "Draws a rubber gasket on a conveyor under varying light, position and rotation:\n" +
        "train/good, test/good, and test/<defect> with ground_truth masks for five defect types\n" +
        "(cut, contamination, scratch, missing_chunk, deformation). The same seed gives the same files.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("product", "the synthetic product (only 'gasket' so far)", "NAME", "gasket"),
        new("out", "output folder", "DIR", "datasets/NAME"),
        new("seed", "random seed", "N", "0"),
        new("count", "training images", "N", "200"),
        new("test-good", "good test images", "N", "40"),
        new("test-defects", "test images per defect type", "N", "12"),
        new("size", "image side in pixels", "N", "256"),
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count > 0) throw new UsageException($"unexpected argument '{args.Positional[0]}'");
        string product = args.Get("product", "gasket");
        if (product != "gasket") throw new UsageException($"unknown synthetic product '{product}' (available: gasket)");
        string output = args.Get("out", Path.Combine("datasets", product));
        var options = new GasketOptions
        {
            Seed = args.GetInt("seed", 0, 0),
            TrainCount = args.GetInt("count", 200, 1, 1_000_000),
            TestGoodCount = args.GetInt("test-good", 40, 0, 100_000),
            TestPerDefect = args.GetInt("test-defects", 12, 0, 100_000),
            Size = args.GetInt("size", 256, 64, 4096),
        };
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            context.Error.WriteLine($"note: {output} exists; files with the same names are overwritten");
        int count = new GasketGenerator(options).Write(output, context.CreateReporter(), context.Cancel);
        context.Out.WriteLine($"wrote {count} images to {output} ({options.TrainCount} train, {options.TestGoodCount} good test, " +
                              $"{options.TestPerDefect} x {GasketGenerator.DefectTypes.Length} defect types with masks)");
        return TrainerApp.ExitOk;
    }
}
