namespace EdgePatchCore.Scoring;

/// <summary>The int8 dot-product kernel that <see cref="CellProbe"/> scans cells with (<see cref="ProbeDots"/>).</summary>
internal enum ProbeKernel
{
    /// <summary>x86 AVX-VNNI: 32 uint8 x int8 multiply-adds an instruction, into int32.</summary>
    AvxVnni,
    /// <summary>x86 AVX2: pairs of uint8 x int8 products add into a saturating int16, so queries stay within 0..127.</summary>
    Avx2,
    /// <summary>ARM's dot-product extension (UDOT; the Jetson Orin's Cortex-A78AE): 16 uint8 x uint8 multiply-adds an instruction,
    /// into uint32.</summary>
    ArmDot,
    /// <summary>Vector128 on any CPU (ARM without the extension, such as the Jetson Nano's Cortex-A57; x86 without AVX2): products
    /// in uint16.</summary>
    Portable,
}
