namespace EdgePatchCore.Search;

/// <summary>How the search holds the bank. The artifact always stores float32; the others are made at load.</summary>
public enum BankPrecision
{
    /// <summary>Exact: squared distances by one float32 GEMM, nearest by ArgMin/TopK (<see cref="Float32Search"/>).</summary>
    Float32 = 0,
    /// <summary>For GPUs: half the bank's device memory, the GEMM on tensor cores (<see cref="Float16Search"/>).</summary>
    Float16 = 1,
    /// <summary>
    /// A quarter of the bank's bytes: candidates by an int8 GEMM, re-ranked exactly against the float32 rows
    /// (<see cref="Int8HostSearch"/> on the CPU, <see cref="Int8DeviceSearch"/> on CUDA).
    /// </summary>
    Int8 = 2,
    /// <summary>The fast one that gives the same results on this device: see <see cref="BankPrecisions.Resolve"/>.</summary>
    Auto = 3,
}
