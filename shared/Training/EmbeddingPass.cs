using System.Numerics.Tensors;
using EdgePatchCore.Coreset;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;

namespace EdgePatchCore.Training;

/// <summary>The training patches as the coreset sees them: int8 projections, N x d, and the projection that made them.</summary>
public sealed record ProjectedPatches(QuantizedRows Rows, int Images, RandomProjection Projection)
{
    public int Count => Rows.Count;
}

/// <summary>
/// Streams images through the backbone once: full-dimension rows go to the spill file (when given), the
/// projection is rotated onto the principal axes of the first batch (see <see cref="RandomProjection.AlignedToPrincipalAxes"/>),
/// only their random projections stay in memory: float16 while streaming (the int8 scale needs the
/// largest value first), then quantized to int8 (peak 384 bytes per patch).
/// </summary>
public sealed class EmbeddingPass(FeatureExtractor extractor, RandomProjection projection, IReporter reporter)
{
    public ProjectedPatches Run(IReadOnlyList<string> files, ImageBatchReader reader, FeatureSpill? spill,
                                Action<string, string> onBadFile, CancellationToken cancel)
    {
        int perImage = extractor.PatchesPerImage, d = projection.OutputDimensions;
        long capacity = (long)files.Count * perImage * d;
        if (capacity > Array.MaxLength)
            throw new BuildException($"{files.Count} images x {perImage} patches is more than one build can hold; use fewer images");
        var rows = new Half[capacity];
        float[] scratch = [];
        float[] features = [];
        int images = 0;
        RandomProjection? aligned = null;
        foreach (var batch in reader.Read(files, onBadFile, cancel))
        {
            int rowCount = batch.Count * perImage;
            if (features.Length < rowCount * extractor.Dimensions) features = new float[rowCount * extractor.Dimensions];
            extractor.Extract(batch.Data, batch.Count, features);
            var batchRows = features.AsSpan(0, rowCount * extractor.Dimensions);
            spill?.Append(batchRows);
            int n = rowCount * d;
            if (scratch.Length < n) scratch = new float[n];
            // The first batch fixes the principal axes (stable at thousands of patches); all rows use the same ones.
            aligned ??= projection.AlignedToPrincipalAxes(batchRows, rowCount);
            aligned.Project(batchRows, rowCount, scratch);
            var projected = scratch.AsSpan(0, n);
            TensorPrimitives.Clamp(projected, -65504f, 65504f, projected); // stay finite in float16
            TensorPrimitives.ConvertToHalf(projected, rows.AsSpan((int)((long)images * perImage * d), n));
            images += batch.Count;
            reporter.Progress("embedding", batch.SourceIndices[^1] + 1, files.Count, $"{images} images");
        }
        reporter.Progress("embedding", files.Count, files.Count, $"{images} images");
        return new ProjectedPatches(QuantizedRows.Quantize(rows, images * perImage, d), images, aligned ?? projection);
    }
}
