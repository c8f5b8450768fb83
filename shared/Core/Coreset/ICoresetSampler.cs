using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

/// <summary>
/// One way to run the greedy k-center selection (Algorithm 1 of the paper) on int8 rows. Every sampler computes
/// exact integer distances, so all of them return the same indices for the same rows, size and seed; they differ in
/// where and how fast they run. <see cref="CoresetSamplers"/> chooses one.
/// </summary>
public interface ICoresetSampler : IDisposable
{
    /// <summary>What runs the selection, for log lines ("GPU (NVIDIA H200)", "CPU, pruned").</summary>
    string Name { get; }

    /// <param name="rows">the projected patches, N x d int8</param>
    /// <param name="size">rows to choose (clamped to 1..N)</param>
    CoresetResult Run(QuantizedRows rows, int size, int seed, IProgress<StageProgress>? progress = null, CancellationToken cancel = default);
}
