using MessagePack;

namespace EdgePatchCore.Embedding;

/// <summary>How the source network expects its input; the prepared graph always takes RGB float in 0..1.</summary>
public enum InputNormalization
{
    /// <summary>BGR in 0..255 minus the per-pixel mean image of the ML.NET ResNet package (the default backbone).</summary>
    Bgr255MeanImage = 0,
    /// <summary>BGR in 0..255 minus per-channel means (B 103.06, G 115.90, R 123.15).</summary>
    Bgr255ChannelMean = 1,
    /// <summary>RGB in 0..1, then (x - ImageNet mean) / ImageNet std, as torchvision models expect.</summary>
    ImageNet = 2,
}

/// <summary>How each patch's neighbourhood becomes one feature vector (docs/trainer.md, "build": --aggregation).</summary>
public enum PatchAggregation
{
    /// <summary>3x3 average per channel, layers concatenated (anomalib): D = sum of layer channels.</summary>
    Average = 0,
    /// <summary>
    /// As the official PatchCore code: each layer's 3x3 x C neighbourhood flattened and adaptively
    /// average-pooled to <see cref="BackboneOptions.LayerDimensions"/>, the layers stacked and pooled to
    /// <see cref="BackboneOptions.TargetDimensions"/>. Keeps the spatial layout of the neighbourhood
    /// and weights the layers equally.
    /// </summary>
    Reference = 1,
}

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

/// <summary>Facts about the bundled backbone (Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, a CNTK export).</summary>
public static class ResNet18
{
    public const string Layer1 = "ReLU283_Output_0"; // 64 x 56 x 56
    public const string Layer2 = "ReLU315_Output_0"; // 128 x 28 x 28
    public const string Layer3 = "ReLU347_Output_0"; // 256 x 14 x 14
    public const string Layer4 = "ReLU379_Output_0"; // 512 x 7 x 7
    public static readonly string[] DefaultLayers = [Layer2, Layer3];

    public static string Resolve(string layer) => layer.ToLowerInvariant() switch
    {
        "layer1" => Layer1,
        "layer2" => Layer2,
        "layer3" => Layer3,
        "layer4" => Layer4,
        _ => layer,
    };

    /// <summary>The name a person knows a layer by ("layer2"), for an ONNX node name of the bundled graph; other names as they are.</summary>
    public static string DisplayName(string layer) => layer switch
    {
        Layer1 => "layer1",
        Layer2 => "layer2",
        Layer3 => "layer3",
        Layer4 => "layer4",
        _ => layer,
    };

    /// <summary>The model file copied next to the assemblies at build time from the NuGet package.</summary>
    public static string ModelPath => Path.Combine(AppContext.BaseDirectory, "Backbones", "ResNet18.onnx");
    public static string PreprocessPath => Path.Combine(AppContext.BaseDirectory, "Backbones", "ResNetPreprocess.onnx");
}

/// <summary>The prepared graph and what the embedding produces; stored in the artifact.</summary>
[MessagePackObject]
public sealed record PreparedBackbone
{
    [Key(0)] public required byte[] Onnx { get; init; }
    [Key(1)] public string InputName { get; init; } = BackbonePreparer.InputName;
    [Key(2)] public string OutputName { get; init; } = BackbonePreparer.OutputName;
    /// <summary>Source layer output names, shallow to deep.</summary>
    [Key(3)] public required string[] Layers { get; init; }
    [Key(4)] public required int[] LayerChannels { get; init; }
    [Key(5)] public InputNormalization Normalization { get; init; }
    /// <summary>Where the weights came from (file name and SHA-256 of the source ONNX).</summary>
    [Key(6)] public string Source { get; init; } = "";
    [Key(7)] public PatchAggregation Aggregation { get; init; }
    /// <summary>Dimensions of one patch feature (the bank's columns).</summary>
    [Key(8)] public required int Dimensions { get; init; }
}
