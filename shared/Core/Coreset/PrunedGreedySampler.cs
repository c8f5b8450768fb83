using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

/// <summary>
/// The CPU default: eight points at a time, block by block of 32 principal dimensions, stopping as soon as their
/// partial distances reach their current minimum (see <see cref="GreedyCoreset"/>); AVX-VNNI where present, else AVX2.
/// </summary>
public sealed class PrunedGreedySampler : ICoresetSampler
{
    public string Name => "CPU, pruned";

    public CoresetResult Run(QuantizedRows rows, int size, int seed, IProgress<StageProgress>? progress = null, CancellationToken cancel = default) =>
        GreedyCoreset.Select(rows, size, seed, progress, cancel);

    public void Dispose() { }
}
