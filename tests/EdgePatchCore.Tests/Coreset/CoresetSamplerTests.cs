using EdgePatchCore.Coreset;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Tests.Coreset;

public class CoresetSamplerTests
{
    private static QuantizedRows Rows(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var rows = new Half[n * d];
        for (int i = 0; i < rows.Length; i++) rows[i] = (Half)(rng.NextDouble() * 2 - 1);
        return QuantizedRows.Quantize(rows, n, d);
    }

    [Fact]
    public void Every_sampler_returns_the_same_indices()
    {
        var rows = Rows(3000, 128, 4);
        using var plain = new PlainGreedySampler();
        using var pruned = new PrunedGreedySampler();
        using var kernel = new GpuGreedySampler(GpuGreedyCoreset.OpenCpu()); // the GPU kernel on ILGPU's CPU accelerator
        var expected = plain.Run(rows, 150, 7).Indices;
        Assert.Equal(expected, pruned.Run(rows, 150, 7).Indices);
        Assert.Equal(expected, kernel.Run(rows, 150, 7).Indices);
        Assert.StartsWith("GPU (", kernel.Name);
    }

    [Fact]
    public void A_build_told_to_use_the_cpu_gets_the_pruned_cpu_sampler()
    {
        using var sampler = CoresetSamplers.For(DeviceKind.Cpu, out string why);
        Assert.IsType<PrunedGreedySampler>(sampler);
        Assert.Equal("", why);
        using var auto = CoresetSamplers.For(DeviceKind.Auto, out string reason); // no CUDA device on a CPU machine: the CPU, with the reason
        if (auto is PrunedGreedySampler) Assert.NotEqual("", reason);
        else Assert.IsType<GpuGreedySampler>(auto);
    }
}
