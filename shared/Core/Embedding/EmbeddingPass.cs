using System.Numerics.Tensors;
using EdgePatchCore.Coreset;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Tiling;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Embedding;

/// <summary>
/// Streams images through the backbone once: full-dimension rows go to the spill file (when given), the
/// projection is rotated onto the principal axes of the first batch (see <see cref="RandomProjection.AlignedToPrincipalAxes"/>),
/// only their random projections stay in memory: float16 while streaming (the int8 scale needs the
/// largest value first), then quantized to int8 chunk by chunk (<see cref="ProjectionStaging"/>: peak 256 bytes per patch).
/// </summary>
public sealed class EmbeddingPass(FeatureExtractor extractor, RandomProjection projection, ILogger log, IProgress<StageProgress>? progress = null)
{
    private ProjectionStaging _rows = new(projection.OutputDimensions);
    private float[] _scratch = [];
    private float[] _features = [];
    private RandomProjection? _aligned;

    /// <summary>Whole-frame images: each file is one network input (resized per the reader's input spec).</summary>
    public ProjectedPatches Run(IReadOnlyList<string> files, ImageBatchReader reader, FeatureSpill? spill,
                                Action<string, string> onBadFile, CancellationToken cancel)
    {
        int perImage = extractor.PatchesPerImage;
        Allocate(files.Count, perImage);
        int images = 0;
        foreach (var batch in reader.Read(files, onBadFile, cancel))
        {
            Add(batch.Data, batch.Count, spill);
            images += batch.Count;
            progress?.Report(new StageProgress("embedding", batch.SourceIndices[^1] + 1, files.Count, $"{images} images"));
        }
        return Finish(files.Count, images, perImage);
    }

    /// <summary>
    /// Tiled images: every tile of every file, <see cref="TileLayout.TilesPerRun"/> tiles per backbone run.
    /// All files must have the size of the first readable one (others go to <paramref name="onBadFile"/>), so that every
    /// image has the same number of patches.
    /// </summary>
    public ProjectedPatches RunTiled(IReadOnlyList<string> files, TiledFrameReader reader, FeatureSpill? spill,
                                     Action<string, string> onBadFile, CancellationToken cancel)
    {
        int images = 0, perImage = 0;
        float[] inputs = [];
        foreach (var (index, frame) in reader.Read(files, onBadFile, oneSize: true, cancel))
        {
            int tiles = frame.Layout.Count, run = Math.Min(TileLayout.TilesPerRun, tiles);
            if (images == 0)
            {
                perImage = tiles * extractor.PatchesPerImage;
                Allocate(files.Count, perImage);
                inputs = new float[run * extractor.InputLength];
                log.LogInformation($"tiles: {frame.FrameWidth} x {frame.FrameHeight} frames scaled to {frame.Layout.Width} x " +
                    $"{frame.Layout.Height}, " +
                              $"{frame.Layout.Columns} x {frame.Layout.Rows} = {tiles} tiles of {frame.Layout.TileSize} pixels, {perImage} patches " +
                                  $"per image");
            }
            for (int first = 0; first < tiles; first += run)
            {
                int n = Math.Min(run, tiles - first);
                frame.WriteTiles(first, n, inputs);
                Add(inputs, n, spill);
            }
            images++;
            progress?.Report(new StageProgress("embedding", index + 1, files.Count, $"{images} images, {images * tiles} tiles"));
        }
        return Finish(files.Count, images, perImage);
    }

    /// <summary>
    /// A tiled model's whole-frame scale: every frame as the tiled pass reads it (scaled, one size), resized whole to the network input,
    /// its line profile flattened as <paramref name="flattening"/> says, <paramref name="batchSize"/> frames per backbone run.
    /// </summary>
    public ProjectedPatches RunWholeFrames(IReadOnlyList<string> files, TiledFrameReader reader, ProfileFlattening flattening, int batchSize,
                                           FeatureSpill? spill, Action<string, string> onBadFile, CancellationToken cancel)
    {
        int perImage = extractor.PatchesPerImage, length = extractor.InputLength, images = 0, queued = 0;
        Allocate(files.Count, perImage);
        var inputs = new float[batchSize * length];
        using var flattener = new ProfileFlattener(flattening);
        foreach (var (index, frame) in reader.Read(files, onBadFile, oneSize: true, cancel))
        {
            flattener.ToInput(frame.Scaled, extractor.Input, inputs.AsSpan(queued * length, length), files[index]);
            images++;
            progress?.Report(new StageProgress("whole-frame embedding", index + 1, files.Count, $"{images} images"));
            if (++queued < batchSize) continue;
            Add(inputs, queued, spill);
            queued = 0;
        }
        if (queued > 0) Add(inputs, queued, spill);
        return Finish(files.Count, images, perImage);
    }

    private void Allocate(int files, int perImage)
    {
        long capacity = (long)files * perImage * projection.OutputDimensions;
        if (capacity > Array.MaxLength)
            throw new BuildException($"{files} images x {perImage} patches is more than one build can hold; use fewer images");
        _rows = new ProjectionStaging(projection.OutputDimensions);
    }

    /// <summary>Embeds <paramref name="count"/> network inputs, spills their rows and stores their projections.</summary>
    private void Add(float[] inputs, int count, FeatureSpill? spill)
    {
        int d = projection.OutputDimensions;
        int rowCount = count * extractor.PatchesPerImage;
        if (_features.Length < rowCount * extractor.Dimensions) _features = new float[rowCount * extractor.Dimensions];
        extractor.Extract(inputs, count, _features);
        var batchRows = _features.AsSpan(0, rowCount * extractor.Dimensions);
        spill?.Append(batchRows);
        int n = rowCount * d;
        if (_scratch.Length < n) _scratch = new float[n];
        // The first batch fixes the principal axes (stable at thousands of patches); all rows use the same ones.
        _aligned ??= projection.AlignedToPrincipalAxes(batchRows, rowCount);
        _aligned.Project(batchRows, rowCount, _scratch);
        _rows.Append(_scratch.AsSpan(0, n));
    }

    private ProjectedPatches Finish(int files, int images, int perImage)
    {
        progress?.Report(new StageProgress("embedding", files, files, $"{images} images"));
        return new ProjectedPatches(_rows.ToInt8(), images, _aligned ?? projection,
            perImage);
    }
}
