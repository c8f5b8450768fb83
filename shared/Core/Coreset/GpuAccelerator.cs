using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace EdgePatchCore.Coreset;

/// <summary>An ILGPU context and one accelerator of it, disposed together.</summary>
public sealed class GpuAccelerator(Context context, Accelerator accelerator) : IDisposable
{
    public Accelerator Accelerator { get; } = accelerator;
    public string Name => Accelerator.Name;

    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
