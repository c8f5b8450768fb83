using MessagePack;

namespace EdgePatchCore.Artifacts;

[MessagePackObject]
public sealed record EmbeddingSpec
{
    [Key(0)] public required string[] Layers { get; init; }
    /// <summary>Neighbourhood of the local average (3 = 3x3).</summary>
    [Key(1)] public int PatchSize { get; init; } = 3;
    [Key(2)] public int Stride { get; init; } = 1;
    [Key(3)] public required int Dimensions { get; init; }
    [Key(4)] public required int GridWidth { get; init; }
    [Key(5)] public required int GridHeight { get; init; }
}
