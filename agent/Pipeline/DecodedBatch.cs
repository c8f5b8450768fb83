using System.Buffers;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// A batch that the <see cref="BatchDecoder"/> has prepared for scoring: every frame with its model acquired and its pixels
/// decoded (or its error), grouped by model; a whole-frame model's group has its network inputs ready, group size x input
/// length floats. Disposing it gives back what the batch held: the inputs, the models and the pictures.
/// </summary>
internal sealed class DecodedBatch(BatchItem[] items, IReadOnlyList<DecodedBatch.ModelGroup> groups, long heldBytes) : IDisposable
{
    /// <summary>The frames of one model, in queue order; <see cref="Inputs"/> is rented, whole-frame models only.</summary>
    public sealed record ModelGroup(ModelStore.LoadedModel Model, BatchItem[] Items, float[]? Inputs);

    public BatchItem[] Items { get; } = items;
    public IReadOnlyList<ModelGroup> Groups { get; } = groups;
    /// <summary>Decoded bytes of the batch's frames (from their headers), counted against Agent:Pipeline:MaxBatchBytes.</summary>
    public long HeldBytes { get; } = heldBytes;

    public void Dispose()
    {
        foreach (var group in Groups)
            if (group.Inputs is { } inputs) ArrayPool<float>.Shared.Return(inputs);
        foreach (var item in Items)
        {
            item.Model?.Release();
            item.Model = null;
            item.Image?.Dispose();
            item.Image = null;
        }
    }
}
