using EdgePatchCore.Coreset;

namespace EdgePatchCore.Embedding;

/// <summary>
/// The training patches as the coreset sees them: int8 projections, N x d (N = Images x PatchesPerImage, image-major),
/// and the projection that made them. A tiled image's patches are those of all its tiles, tile by tile.
/// </summary>
public sealed record ProjectedPatches(QuantizedRows Rows, int Images, RandomProjection Projection, int PatchesPerImage)
{
    public int Count => Rows.Count;
}
