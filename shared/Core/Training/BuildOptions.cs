using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Training;

/// <summary>Everything `trainer build` can set; the defaults are the paper's (ResNet18 here).</summary>
public sealed record BuildOptions
{
    public required string Product { get; init; }
    public required string DataDirectory { get; init; }
    /// <summary>The <see cref="BuildPreset"/> the defaults came from (recorded in the manifest).</summary>
    public string Preset { get; init; } = BuildPreset.Balanced.Name;
    public InputSpec Input { get; init; } = new();
    /// <summary>Tiled inspection; then <see cref="Input"/> is the tile (<see cref="TilingSpec.NetworkInput"/>). Null: whole frames.</summary>
    public Tiling.TilingSpec? Tiling { get; init; }
    public BackboneOptions Backbone { get; init; } = new();
    /// <summary>The precision the training images are embedded at, and the agent's default
    /// (<see cref="BackbonePrecisions.ResolveForBuild"/>).</summary>
    public BackbonePrecision BackbonePrecision { get; init; } = BackbonePrecision.Auto;
    /// <summary>A tiled model also keeps a whole-frame scale (docs/TILING.md, "Both scales"); ignored without <see cref="Tiling"/>.</summary>
    public bool WholeFrame { get; init; } = true;
    /// <summary>
    /// Share of the whole-frame patches kept in that scale's bank: the balanced preset's, since a whole frame gives one network input's
    /// patches (784 at 224) where the tiles give dozens of times more.
    /// </summary>
    public const double WholeFrameCoresetFraction = 0.1;
    /// <summary>The line profile the whole-frame scale flattens (a brushed or rolled surface: <see cref="ProfileFlattener"/>).</summary>
    public ProfileFlattening WholeFrameFlattening { get; init; } = ProfileFlattening.Off;
    /// <summary>Share of training patches kept in the bank (0.1 = 10%); ignored when <see cref="CoresetSize"/> is set.</summary>
    public double CoresetFraction { get; init; } = BuildPreset.Balanced.CoresetFraction;
    public int? CoresetSize { get; init; }
    public int ProjectionDimensions { get; init; } = 128;
    public int Seed { get; init; }
    /// <summary>b of Eq. 7.</summary>
    public int NeighbourCount { get; init; } = 9;
    public bool Reweight { get; init; } = true;
    public float BlurSigma { get; init; } = 4f;
    /// <summary>k of the cross-fitting that gives the threshold its scores (see <see cref="CrossFitCalibration"/>).</summary>
    public int CalibrationFolds { get; init; } = 5;
    /// <summary>Separate good images whose scores set the threshold instead of the cross-fitted ones.</summary>
    public string? CalibrationDirectory { get; init; }
    public double FalseRejectRate { get; init; } = DefaultFalseRejectRate;

    /// <summary>The false-reject target when none is given (also for models whose calibration does not record one).</summary>
    public const double DefaultFalseRejectRate = 0.01;
    /// <summary>Fail on the first unreadable training image instead of skipping it.</summary>
    public bool Strict { get; init; }
    public int BatchSize { get; init; } = 8;
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    /// <summary>Where the full-dimension features are spilled during selection (default: the system temp folder).</summary>
    public string? TempDirectory { get; init; }

    /// <summary>The options as recorded in the artifact manifest.</summary>
    public Dictionary<string, string> Describe()
    {
        var described = Properties();
        if (Tiling is not null) described["tiling"] = Tiling.ToString();
        if (Tiling is not null) described["wholeFrame"] = !WholeFrame ? "off" : $"on ({WholeFrameCoresetFraction:0.##} coreset" +
            (WholeFrameFlattening == ProfileFlattening.Off ? ")" : $", {WholeFrameFlattening.ToString().ToLowerInvariant()} flattened)");
        return described;
    }

    private Dictionary<string, string> Properties() => new()
    {
        ["preset"] = Preset,
        ["input"] = Input.ToString(),
        ["layers"] = string.Join(",", Backbone.Layers),
        ["backbone"] = Backbone.ModelPath is null ? "resnet18 (bundled)" : Path.GetFileName(Backbone.ModelPath),
        ["normalization"] = Backbone.Normalization.ToString(),
        ["backbonePrecision"] = BackbonePrecisions.Name(BackbonePrecision),
        ["aggregation"] = Backbone.Aggregation == PatchAggregation.Reference
            ? $"reference ({Backbone.LayerDimensions} per layer -> {Backbone.TargetDimensions})" : "average 3x3",
        ["coreset"] = CoresetSize is { } n ? $"{n} rows" : $"{CoresetFraction:0.####}",
        ["projection"] = ProjectionDimensions.ToString(),
        ["seed"] = Seed.ToString(),
        ["neighbours"] = NeighbourCount.ToString(),
        ["reweight"] = Reweight ? "on" : "off",
        ["blurSigma"] = BlurSigma.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
        ["falseRejectRate"] = FalseRejectRate.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture),
        ["calibration"] = CalibrationDirectory ?? $"cross-fitted, {CalibrationFolds} folds",
    };
}
