using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

/// <summary>
/// The ILGPU kernel on a CUDA device (or ILGPU's CPU accelerator in tests), points and minima resident on the device
/// (see <see cref="GpuGreedyCoreset"/>). Needs only the NVIDIA driver, not ONNX Runtime's CUDA provider. Owns the accelerator.
/// </summary>
public sealed class GpuGreedySampler(GpuAccelerator accelerator) : ICoresetSampler
{
    public string Name => $"GPU ({accelerator.Name})";

    public CoresetResult Run(QuantizedRows rows, int size, int seed, IProgress<StageProgress>? progress = null, CancellationToken cancel = default) =>
        GpuGreedyCoreset.Select(rows, size, seed, accelerator.Accelerator, progress, cancel);

    public void Dispose() => accelerator.Dispose();
}
