using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

/// <summary>The plain algorithm on the CPU: the full distance of every point to the new centre, every step (the benchmarks' baseline).</summary>
public sealed class PlainGreedySampler : ICoresetSampler
{
    public string Name => "CPU, plain";

    public CoresetResult Run(QuantizedRows rows, int size, int seed, IProgress<StageProgress>? progress = null, CancellationToken cancel = default) =>
        GreedyCoreset.SelectPlain(rows, size, seed, progress, cancel);

    public void Dispose() { }
}
