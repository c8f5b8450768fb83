using MessagePack;

namespace EdgePatchCore.Embedding;

/// <summary>What to prepare: which ONNX file, which layer outputs, which input normalisation.</summary>
public sealed record BackboneOptions
{
    /// <summary>Source ONNX file; null means the bundled ImageNet ResNet18.</summary>
    public string? ModelPath { get; init; }
    /// <summary>Output tensor names of the chosen layers, shallow to deep; the first sets the patch grid.</summary>
    public IReadOnlyList<string> Layers { get; init; } = ResNet18.DefaultLayers;
    public InputNormalization Normalization { get; init; } = InputNormalization.Bgr255MeanImage;
    /// <summary>
    /// Reference by default: on MTD the plain 3x3 average reaches image AUROC 0.885, the official code's
    /// mapping 0.961 (ResNet18, 10% coreset), in line with the official implementation's 0.967.
    /// </summary>
    public PatchAggregation Aggregation { get; init; } = PatchAggregation.Reference;
    /// <summary>Per-layer dimensions of the reference aggregation (the official code's pretrain_embed_dimension).</summary>
    public int LayerDimensions { get; init; } = 1024;
    /// <summary>Final dimensions of the reference aggregation (the official code's target_embed_dimension).</summary>
    public int TargetDimensions { get; init; } = 1024;

    public static PatchAggregation ParseAggregation(string text) => text.ToLowerInvariant() switch
    {
        "average" or "avg" => PatchAggregation.Average,
        "reference" or "ref" => PatchAggregation.Reference,
        _ => throw new ArgumentException($"unknown aggregation '{text}' (expected average or reference)"),
    };

    public static InputNormalization ParseNormalization(string text) => text.ToLowerInvariant() switch
    {
        "bgr255" or "bgr255-mean-image" => InputNormalization.Bgr255MeanImage,
        "bgr255-channel-mean" => InputNormalization.Bgr255ChannelMean,
        "imagenet" => InputNormalization.ImageNet,
        _ => throw new ArgumentException($"unknown input normalisation '{text}' (expected bgr255, bgr255-channel-mean or imagenet)"),
    };
}
