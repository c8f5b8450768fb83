namespace EdgePatchCore.Imaging;

/// <summary>
/// A batch of preprocessed images, back to back in <see cref="Data"/> (3 x H x W floats each). The reader reuses
/// <see cref="Data"/> for the next batch: use it before asking for the next one.
/// </summary>
public sealed record ImageBatch(float[] Data, int Count, int[] SourceIndices);
