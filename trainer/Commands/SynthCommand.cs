using EdgePatchCore.Diagnostics;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class SynthCommand : ICommand
{
    public string Name => "synth";
    public string Summary => "generate a synthetic product dataset (MVTec layout) for demos and tests";
    public string Usage => "--product gasket|sheet [--out DIR] [--seed N] [options]";
    public string Description =>
        "gasket: a rubber gasket on a conveyor under varying light, position and rotation, 256 x 256,\n" +
        "five defect types (cut, contamination, scratch, missing_chunk, deformation).\n" +
        "sheet: a brushed, machined aluminium sheet seen at 1600 x 1200, with small defects for tiled\n" +
        "inspection (trainer build --tile 224): pits of 3-10 pixels, hairline scratches, faint stains, edge burrs.\n" +
        "Both write train/good, test/good, and test/<defect> with ground_truth masks. The same seed gives the same files.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("product", "the synthetic product: gasket or sheet", "NAME", "gasket"),
        new("out", "output folder", "DIR", "datasets/NAME"),
        new("seed", "random seed", "N", "0"),
        new("count", "training images", "N", "200; sheet: 10"),
        new("test-good", "good test images", "N", "40; sheet: 12"),
        new("test-defects", "test images per defect type", "N", "12; sheet: 6"),
        new("size", "image size in pixels (gasket: the side N; sheet: WxH)", "N|WxH", "256; sheet: 1600x1200"),
        new("belt", "the conveyor belt's colour before lighting (a new belt is a nominal drift)", "R,G,B", "140,146,156"),
        new("large-stains", "sheet: stains 160-240 pixels across and 6-9 grey levels deep (a defect only a whole-frame view finds) instead of " +
            "20-40 and 10-15"),
        new("gain", "the lamp: light gain range of the images (a brighter lamp, e.g. 1.15:1.35, is a nominal drift)", "MIN:MAX", "0.85:1.15"),
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count > 0) throw new UsageException($"unexpected argument '{args.Positional[0]}'");
        string product = args.Text("product");
        if (product is not ("gasket" or "sheet")) throw new UsageException($"unknown synthetic product '{product}' (available: gasket, sheet)");
        string output = args.Get("out", Path.Combine("datasets", product));
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            context.Error.WriteLine($"note: {output} exists; files with the same names are overwritten");
        if (product == "sheet") return WriteSheet(args, context, output);
        if (args.Has("large-stains")) throw new UsageException("--large-stains is an option of the sheet");
        var gain = args.GetParsed("gain", (Min: 0.85f, Range: 0.3f), ParseGain);
        var options = new GasketOptions
        {
            Seed = args.Int("seed", 0),
            TrainCount = args.GetInt("count", 200, 1, 1_000_000),
            TestGoodCount = args.GetInt("test-good", 40, 0, 100_000),
            TestPerDefect = args.GetInt("test-defects", 12, 0, 100_000),
            Size = args.GetInt("size", 256, 64, 4096),
            GainMin = gain.Min,
            GainRange = gain.Range,
            Belt = args.Parsed("belt", ParseBelt),
        };
        int count = new GasketGenerator(options).Write(output, context.CreateProgress(), context.Cancel);
        context.Out.WriteLine($"wrote {count} images to {output} ({options.TrainCount} train, {options.TestGoodCount} good test, " +
                              $"{options.TestPerDefect} x {GasketGenerator.DefectTypes.Length} defect types with masks)");
        return TrainerApp.ExitOk;
    }

    private static int WriteSheet(CommandLine args, CommandContext context, string output)
    {
        if (args.Has("belt") || args.Has("gain")) throw new UsageException("--belt and --gain are options of the gasket");
        var (width, height) = args.GetParsed("size", (1600, 1200), ParseSize);
        var options = new SheetOptions
        {
            Seed = args.Int("seed", 0),
            TrainCount = args.GetInt("count", 10, 1, 100_000),
            TestGoodCount = args.GetInt("test-good", 12, 0, 100_000),
            TestPerDefect = args.GetInt("test-defects", 6, 0, 100_000),
            Width = width,
            Height = height,
            LargeStains = args.Has("large-stains"),
        };
        int count = new SheetGenerator(options).Write(output, context.CreateProgress(), context.Cancel);
        context.Out.WriteLine($"wrote {count} images of {width} x {height} to {output} ({options.TrainCount} train, {options.TestGoodCount} good " +
            $"test, {options.TestPerDefect} x {SheetGenerator.DefectTypes.Length} defect types with masks)");
        return TrainerApp.ExitOk;
    }

    private static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h) && w is >= 256 and <= 8192
            && h is >= 256 and <= 8192)
            return (w, h);
        throw new ArgumentException($"expected WxH with 256..8192 pixels a side, not '{text}'");
    }

    private static (float Min, float Range) ParseGain(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 2 && float.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out float lo)
            && float.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out float hi) && lo > 0 && hi > lo && hi <= 4)
            return (lo, hi - lo);
        throw new ArgumentException($"expected MIN:MAX with 0 < MIN < MAX <= 4, not '{text}'");
    }

    private static (float R, float G, float B) ParseBelt(string text)
    {
        var parts = text.Split(',');
        var values = parts.Select(p => float.TryParse(p, System.Globalization.CultureInfo.InvariantCulture, out float v)
            && v is >= 0 and <= 255 ? v : -1).ToArray();
        if (values.Length == 3 && values.All(v => v >= 0)) return (values[0], values[1], values[2]);
        throw new ArgumentException($"expected R,G,B with values 0..255, not '{text}'");
    }
}
