using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Embedding;

/// <summary>Which backbone precision "auto" means, and why (docs/design.md, "The int8 backbone").</summary>
public static class BackbonePrecisions
{
    /// <summary>
    /// Int8 dot-product instructions (x86 AVX-VNNI or AVX512-VNNI, ARM's dot-product extension). Without them ONNX
    /// Runtime's u8 x s8 kernels fall back to 16-bit products that can saturate and are barely faster than float32.
    /// </summary>
    public static bool CpuHasInt8DotProduct =>
        AvxVnni.IsSupported || Avx10v1.IsSupported || HasAvx512Vnni() || System.Runtime.Intrinsics.Arm.Dp.IsSupported;

    /// <summary>For a build: int8 where the CPU runs it with dot products, else float32.</summary>
    public static (BackbonePrecision Precision, string Reason) ResolveForBuild(BackbonePrecision requested, ExecutionDevice device)
    {
        if (requested != BackbonePrecision.Auto) return (requested, "requested");
        if (device.Actual == DeviceKind.Cuda) return (BackbonePrecision.Float32, "auto: the GPU runs the float32 backbone");
        return CpuHasInt8DotProduct
            ? (BackbonePrecision.Int8, "auto: this CPU has int8 dot products")
            : (BackbonePrecision.Float32, "auto: no int8 dot product on this CPU");
    }

    /// <summary>
    /// For scoring: auto is the precision the bank was embedded with, as long as the device runs it well (int8 needs a CPU
    /// with int8 dot products), so the scores are those the threshold was set on. A model without calibrated ranges runs
    /// float32; asking it for int8 is an error.
    /// </summary>
    public static (BackbonePrecision Precision, string Reason) Resolve(BackbonePrecision requested, PreparedBackbone backbone,
        ExecutionDevice device)
    {
        if (requested == BackbonePrecision.Int8 && backbone.Ranges is null)
            throw new BackboneException("this model has no int8 calibration (built before the int8 backbone); rebuild it, or score it with " +
                "--backbone-precision float32");
        string embedded = $"the bank was embedded in {Name(backbone.Precision)}";
        if (requested != BackbonePrecision.Auto)
            return (requested, requested == backbone.Precision ? "requested" : $"requested; {embedded}, so {Shifted}");
        if (backbone.Precision == BackbonePrecision.Float32) return (BackbonePrecision.Float32, $"auto: {embedded}");
        if (device.Actual == DeviceKind.Cuda)
            return (BackbonePrecision.Float32, $"auto: the GPU runs the float32 backbone; {embedded}, so {Shifted}");
        return CpuHasInt8DotProduct
            ? (BackbonePrecision.Int8, $"auto: {embedded} and this CPU has int8 dot products")
            : (BackbonePrecision.Float32, $"auto: no int8 dot product on this CPU; {embedded}, so {Shifted}");
    }

    private const string Shifted = "scores differ slightly from the threshold's";

    public static BackbonePrecision Parse(string text) => text.ToLowerInvariant() switch
    {
        "float32" or "fp32" => BackbonePrecision.Float32,
        "int8" => BackbonePrecision.Int8,
        "auto" => BackbonePrecision.Auto,
        _ => throw new ArgumentException($"unknown backbone precision '{text}' (expected float32, int8 or auto)"),
    };

    public static string Name(BackbonePrecision precision) => precision.ToString().ToLowerInvariant();

    /// <summary>CPUID leaf 7, ECX bit 11: AVX512-VNNI (the server parts that have it lack AVX-VNNI).</summary>
    private static bool HasAvx512Vnni() => X86Base.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;
}
