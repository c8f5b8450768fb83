using EdgePatchCore.KernelCheck;

namespace EdgePatchCore.Tests.Scoring;

/// <summary>
/// The bounded search's int8 probe with every kernel this CPU runs (AVX-VNNI and AVX2 here; the portable Vector128 one
/// everywhere): the checks of <see cref="ProbeKernelCheck"/>. <see cref="ArmProbeKernelTests"/> runs the same checks on
/// emulated ARM CPUs, where ARM's dot-product kernel runs.
/// </summary>
public class CellProbeTests
{
    public static TheoryData<int, int> Cases()
    {
        var cases = new TheoryData<int, int>();
        foreach (var (rows, d) in ProbeKernelCheck.Cases) cases.Add(rows, d);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_kernel_proposes_the_rows_with_the_best_int8_score(int rows, int d) =>
        Assert.Empty(ProbeKernelCheck.Failures(rows, d));
}
