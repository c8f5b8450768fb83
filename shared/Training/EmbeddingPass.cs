using EdgePatchCore.Coreset;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;

namespace EdgePatchCore.Training;

/// <summary>The training patches as the coreset sees them: float16 projections, N x d.</summary>
public sealed record ProjectedPatches(Half[] Rows, int Count, int Dimensions, int Images);

/// <summary>
/// Streams images through the backbone once: full-dimension rows go to the spill file (when given),
/// only their random projections stay in memory, stored as float16.
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
        int images = 0;
        foreach (var batch in reader.Read(files, onBadFile, cancel))
        {
            var features = extractor.Extract(batch.Data, batch.Count);
            spill?.Append(features);
            int n = batch.Count * perImage * d;
            if (scratch.Length < n) scratch = new float[n];
            projection.Project(features, batch.Count * perImage, scratch);
            HalfRows.ToHalf(scratch.AsSpan(0, n), rows.AsSpan((int)((long)images * perImage * d), n));
            images += batch.Count;
            reporter.Progress("embedding", batch.SourceIndices[^1] + 1, files.Count, $"{images} images");
        }
        reporter.Progress("embedding", files.Count, files.Count, $"{images} images");
        return new ProjectedPatches(rows, images * perImage, d, images);
    }
}
