using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// The int8 space the greedy selection ran in: the (principal-axes aligned) random projection D -> d, the
/// quantization scale, and the squared coverage radius the selection reached, in int8 units.
/// </summary>
[MessagePackObject]
public sealed record SelectionSpace
{
    [Key(0)] public required int InputDimensions { get; init; }
    [Key(1)] public required int OutputDimensions { get; init; }
    /// <summary>The projection matrix, D x d float32, row-major (little-endian bytes).</summary>
    [Key(2)] public required byte[] Projection { get; init; }
    [Key(3)] public required float Scale { get; init; }
    [Key(4)] public required int RadiusSquared { get; init; }

    public void Validate(int columns)
    {
        if (InputDimensions != columns || OutputDimensions is < 1 or > Coreset.QuantizedRows.MaxDimensions
            || Projection is null || Projection.LongLength != (long)InputDimensions * OutputDimensions * 4
            || !(Scale > 0) || !float.IsFinite(Scale) || RadiusSquared < 0)
            throw new ArtifactException("selection space sizes out of range");
    }
}
