using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Search;

/// <summary>Which bank precision "auto" means on a device, and why.</summary>
public static class BankPrecisions
{
    /// <summary>
    /// <see cref="BankPrecision.Auto"/> becomes: float16 on CUDA (half the bank's device memory, GEMM on
    /// tensor cores); int8 on a CPU with an int8 dot product (x86 with AVX2, ARM with the dot-product
    /// extension), where the int8 GEMM is several times faster than float32 and the exact float32 re-rank of
    /// its candidates gives float32's scores (equal to 1e-5 in the tests, and on MTD to three decimals);
    /// float32 elsewhere. Any other request is returned as it is.
    /// </summary>
    public static (BankPrecision Precision, string Reason) Resolve(BankPrecision requested, ExecutionDevice device)
    {
        if (requested != BankPrecision.Auto) return (requested, "requested");
        if (device.Actual == DeviceKind.Cuda) return (BankPrecision.Float16, "auto: CUDA");
        if (Avx2.IsSupported) return (BankPrecision.Int8, "auto: this CPU has AVX2 int8 dot products; candidates re-ranked in float32");
        if (System.Runtime.Intrinsics.Arm.Dp.IsSupported) return (BankPrecision.Int8,
            "auto: this CPU has ARM dot products; candidates re-ranked in float32");
        return (BankPrecision.Float32, "auto: no int8 dot product on this CPU");
    }

    public static string Name(BankPrecision precision) => precision.ToString().ToLowerInvariant();
}
