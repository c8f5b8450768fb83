namespace EdgePatchCore.Training;

/// <summary>
/// A named point on the accuracy/speed trade-off, chosen from the measured sweep in docs/ACCURACY.md
/// ("Presets"). A preset only supplies defaults: any option given on the command line wins.
/// </summary>
/// <param name="Size">network input, square</param>
/// <param name="CoresetFraction">share of training patches kept in the bank</param>
/// <param name="Dimensions">the reference aggregation's per-layer and final dimensions</param>
public sealed record BuildPreset(string Name, int Size, double CoresetFraction, int Dimensions, string Layers, string Summary)
{
    public static readonly BuildPreset Fast = new("fast", 224, 0.1, 1024, "layer3",
        "layer3 only: 15% of the balanced latency and the better verdicts on MTD, but coarser heat maps (14 x 14 patches)");
    public static readonly BuildPreset Balanced = new("balanced", 224, 0.1, 1024, "layer2,layer3",
        "224 x 224, layer2 + layer3, 10% coreset: the paper's settings, the finest heat maps");
    public static readonly BuildPreset Accurate = new("accurate", 224, 0.25, 1024, "layer3",
        "layer3 only with a 25% coreset: the best verdicts measured (image AUROC), coarser heat maps");

    public static IReadOnlyList<BuildPreset> All { get; } = [Fast, Balanced, Accurate];

    public static BuildPreset Parse(string text) =>
        All.FirstOrDefault(p => p.Name.Equals(text, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"expected {string.Join(", ", All.Select(p => p.Name))}, not '{text}'");
}
