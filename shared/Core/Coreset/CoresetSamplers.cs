using EdgePatchCore.Devices;

namespace EdgePatchCore.Coreset;

/// <summary>The one place a build chooses how its coreset is selected.</summary>
public static class CoresetSamplers
{
    /// <summary>
    /// The GPU kernel when a CUDA device is there and the build is not told to use the CPU, else the pruned CPU
    /// selection; <paramref name="why"/> says why the CPU runs it when the GPU was allowed (empty otherwise).
    /// </summary>
    public static ICoresetSampler For(DeviceKind requested, out string why)
    {
        why = "";
        if (requested == DeviceKind.Cpu) return new PrunedGreedySampler();
        return TryGpu(out why) ?? new PrunedGreedySampler();
    }

    /// <summary>The GPU sampler on the first CUDA device, or null with the reason (no driver, no device).</summary>
    public static ICoresetSampler? TryGpu(out string why)
    {
        var gpu = GpuGreedyCoreset.TryOpenCuda(out why);
        return gpu is null ? null : new GpuGreedySampler(gpu);
    }
}
