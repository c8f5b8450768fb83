using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgePatchCore.Evaluation;

/// <summary>The result of `trainer evaluate` (docs/trainer.md, "evaluate"); serialised as camelCase JSON, fractions in 0..1.</summary>
public sealed record EvaluationReport
{
    public required string Product { get; init; }
    public required ArtifactInfo Artifact { get; init; }
    public required ImageCounts Images { get; init; }
    /// <summary>What the artifact's calibrated threshold (the one the agent uses) does on this test set.</summary>
    public OperatingPoint? AtThreshold { get; init; }
    /// <summary>The same at the F1-optimal threshold: a figure that needs the test labels, which a plant does not have.</summary>
    public OperatingPoint? AtF1Threshold { get; init; }
    /// <summary>What the REVIEW band below the calibrated threshold would route to an operator (trainer evaluate --review-rate).</summary>
    public ReviewBandReport? Review { get; init; }
    /// <summary>Each scale's contribution, for a tiled model with a whole-frame scale; null otherwise.</summary>
    public ScalesReport? Scales { get; init; }
    public double? ImageAuroc { get; init; }
    /// <summary>Pixel AUROC and PRO with the first mask protocol evaluated (see <see cref="PixelMetrics"/>).</summary>
    public double? PixelAuroc { get; init; }
    public double? Pro { get; init; }
    /// <summary>Pixel AUROC, PRO and defect regions per mask protocol ("ours", "official"; see <see cref="MaskProtocol"/>).</summary>
    public List<PixelSummary> PixelMetrics { get; init; } = [];
    public float? F1Threshold { get; init; }
    public int? Misclassified { get; init; }
    public required SortedDictionary<string, DefectMetrics> PerDefect { get; init; }
    public required TimingInfo Timing { get; init; }
    /// <summary>Why a metric is null, and other remarks.</summary>
    public List<string> Notes { get; init; } = [];
    public List<string> Skipped { get; init; } = [];

    public sealed record ArtifactInfo(string Id, int CoresetRows);
    public sealed record ImageCounts(int Good, int Defective);
    public sealed record PixelSummary(string MaskProtocol, int Regions, double? PixelAuroc, double? Pro);
    public sealed record DefectMetrics(int Count, double? ImageAuroc, double? PixelAuroc, double? Pro);
    public sealed record TimingInfo(double ImagesPerSecond, double MedianMs);

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}
