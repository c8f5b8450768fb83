using MessagePack;

namespace EdgePatchCore.Embedding;

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
    /// <summary>Calibrated activation ranges for the int8 backbone (<see cref="BackboneQuantizer"/>); null in models built without them.</summary>
    [Key(9)] public ActivationRanges? Ranges { get; init; }
    /// <summary>The precision the bank's rows were embedded with; scoring at the same precision gives the threshold's scores.</summary>
    [Key(10)] public BackbonePrecision Precision { get; init; }
}
