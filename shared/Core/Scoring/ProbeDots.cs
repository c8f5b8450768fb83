using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgePatchCore.Scoring;

/// <summary>
/// The dot products of <see cref="CellProbe"/>'s scan, one kernel per <see cref="ProbeKernel"/>: four queries (uint8, 0 ..
/// <see cref="QueryLevels"/>) against two or four bank rows (int8 steps 0..127), all <c>stride</c> bytes long, a multiple of
/// <see cref="Block"/> padded with zeros. Every kernel gives the same integers for the same bytes.
/// </summary>
internal static unsafe class ProbeDots
{
    /// <summary>Bytes per SIMD step of the widest kernel: rows and queries are padded to a multiple of it.</summary>
    public const int Block = 32;

    /// <summary>The fastest kernel this CPU runs.</summary>
    public static ProbeKernel Fastest() =>
        AvxVnni.IsSupported ? ProbeKernel.AvxVnni : Avx2.IsSupported ? ProbeKernel.Avx2 : Dp.IsSupported ? ProbeKernel.ArmDot : ProbeKernel.Portable;

    public static bool IsSupported(ProbeKernel kernel) => kernel switch
    {
        ProbeKernel.AvxVnni => AvxVnni.IsSupported,
        ProbeKernel.Avx2 => Avx2.IsSupported,
        ProbeKernel.ArmDot => Dp.IsSupported,
        _ => true,
    };

    /// <summary>The largest query value: 127 for AVX2, whose pairs of products add into a saturating int16 (2 x 127 x 127 fits,
    /// 2 x 255 x 127 does not); 255 for the others, which accumulate in 32 bits (or, portably, 2 x 255 x 127 in uint16).</summary>
    public static float QueryLevels(ProbeKernel kernel) => kernel == ProbeKernel.Avx2 ? 127f : 255f;

    /// <summary>dots[r x 4 + i] = q[i] . row_r for the two rows.</summary>
    public static void Two(ProbeKernel kernel, byte** q, byte* row0, byte* row1, int stride, int* dots)
    {
        switch (kernel)
        {
            case ProbeKernel.AvxVnni: TwoVnni(q, row0, row1, stride, dots); break;
            case ProbeKernel.Avx2: TwoAvx2(q, row0, row1, stride, dots); break;
            case ProbeKernel.ArmDot: TwoArm(q, row0, row1, stride, dots); break;
            default: TwoPortable(q, row0, row1, stride, dots); break;
        }
    }

    /// <summary>dots[r x 4 + i] = q[i] . row_r for four consecutive rows (<paramref name="stride"/> bytes apart).</summary>
    public static void Four(ProbeKernel kernel, byte** q, byte* rows, int stride, int* dots)
    {
        switch (kernel)
        {
            case ProbeKernel.AvxVnni: FourVnni(q, rows, stride, dots); break;
            case ProbeKernel.ArmDot: FourArm(q, rows, stride, dots); break;
            default:
                Two(kernel, q, rows, rows + stride, stride, dots);
                Two(kernel, q, rows + 2 * stride, rows + 3 * stride, stride, dots + 8);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourVnni(byte** q, byte* rows, long stride, int* dots)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        byte* q0p = q[0], q1p = q[1], q2p = q[2], q3p = q[3];
        for (int k = 0; k < stride; k += Block)
        {
            var q0 = Vector256.Load(q0p + k);
            var q1 = Vector256.Load(q1p + k);
            var q2 = Vector256.Load(q2p + k);
            var q3 = Vector256.Load(q3p + k);
            var r = Vector256.Load((sbyte*)rows + k);
            (a0, a1, a2, a3) = (AvxVnni.MultiplyWideningAndAdd(a0, q0, r), AvxVnni.MultiplyWideningAndAdd(a1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(a2, q2, r), AvxVnni.MultiplyWideningAndAdd(a3, q3, r));
            r = Vector256.Load((sbyte*)rows + stride + k);
            (b0, b1, b2, b3) = (AvxVnni.MultiplyWideningAndAdd(b0, q0, r), AvxVnni.MultiplyWideningAndAdd(b1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(b2, q2, r), AvxVnni.MultiplyWideningAndAdd(b3, q3, r));
            r = Vector256.Load((sbyte*)rows + 2 * stride + k);
            (c0, c1, c2, c3) = (AvxVnni.MultiplyWideningAndAdd(c0, q0, r), AvxVnni.MultiplyWideningAndAdd(c1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(c2, q2, r), AvxVnni.MultiplyWideningAndAdd(c3, q3, r));
            r = Vector256.Load((sbyte*)rows + 3 * stride + k);
            (d0, d1, d2, d3) = (AvxVnni.MultiplyWideningAndAdd(d0, q0, r), AvxVnni.MultiplyWideningAndAdd(d1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(d2, q2, r), AvxVnni.MultiplyWideningAndAdd(d3, q3, r));
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
        Store(c0, c1, c2, c3, dots + 8);
        Store(d0, d1, d2, d3, dots + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoVnni(byte** q, byte* row0, byte* row1, int stride, int* dots)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < stride; k += Block)
        {
            var r0 = Vector256.Load((sbyte*)row0 + k);
            var r1 = Vector256.Load((sbyte*)row1 + k);
            var q0 = Vector256.Load(q[0] + k);
            var q1 = Vector256.Load(q[1] + k);
            var q2 = Vector256.Load(q[2] + k);
            var q3 = Vector256.Load(q[3] + k);
            (a0, b0) = (AvxVnni.MultiplyWideningAndAdd(a0, q0, r0), AvxVnni.MultiplyWideningAndAdd(b0, q0, r1));
            (a1, b1) = (AvxVnni.MultiplyWideningAndAdd(a1, q1, r0), AvxVnni.MultiplyWideningAndAdd(b1, q1, r1));
            (a2, b2) = (AvxVnni.MultiplyWideningAndAdd(a2, q2, r0), AvxVnni.MultiplyWideningAndAdd(b2, q2, r1));
            (a3, b3) = (AvxVnni.MultiplyWideningAndAdd(a3, q3, r0), AvxVnni.MultiplyWideningAndAdd(b3, q3, r1));
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoAvx2(byte** q, byte* row0, byte* row1, int stride, int* dots)
    {
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < stride; k += Block)
        {
            var r0 = Vector256.Load((sbyte*)row0 + k);
            var r1 = Vector256.Load((sbyte*)row1 + k);
            for (int i = 0; i < 4; i++)
            {
                var qi = Vector256.Load(q[i] + k);
                var x = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qi, r0), ones);
                var y = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qi, r1), ones);
                switch (i)
                {
                    case 0: (a0, b0) = (a0 + x, b0 + y); break;
                    case 1: (a1, b1) = (a1 + x, b1 + y); break;
                    case 2: (a2, b2) = (a2 + x, b2 + y); break;
                    default: (a3, b3) = (a3 + x, b3 + y); break;
                }
            }
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
    }

    /// <summary>The four horizontal sums of a0..a3 into dots[0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3, int* dots)
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3)); // lanes: a0 a1 a2 a3 | a0 a1 a2 a3 (halves)
        (h.GetLower() + h.GetUpper()).Store(dots);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourArm(byte** q, byte* rows, long stride, int* dots)
    {
        Vector128<uint> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        Vector128<uint> c0 = default, c1 = default, c2 = default, c3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        byte* q0p = q[0], q1p = q[1], q2p = q[2], q3p = q[3];
        for (int k = 0; k < stride; k += 16)
        {
            var q0 = Vector128.Load(q0p + k);
            var q1 = Vector128.Load(q1p + k);
            var q2 = Vector128.Load(q2p + k);
            var q3 = Vector128.Load(q3p + k);
            var r = Vector128.Load(rows + k);
            (a0, a1, a2, a3) = (Dp.DotProduct(a0, q0, r), Dp.DotProduct(a1, q1, r), Dp.DotProduct(a2, q2, r), Dp.DotProduct(a3, q3, r));
            r = Vector128.Load(rows + stride + k);
            (b0, b1, b2, b3) = (Dp.DotProduct(b0, q0, r), Dp.DotProduct(b1, q1, r), Dp.DotProduct(b2, q2, r), Dp.DotProduct(b3, q3, r));
            r = Vector128.Load(rows + 2 * stride + k);
            (c0, c1, c2, c3) = (Dp.DotProduct(c0, q0, r), Dp.DotProduct(c1, q1, r), Dp.DotProduct(c2, q2, r), Dp.DotProduct(c3, q3, r));
            r = Vector128.Load(rows + 3 * stride + k);
            (d0, d1, d2, d3) = (Dp.DotProduct(d0, q0, r), Dp.DotProduct(d1, q1, r), Dp.DotProduct(d2, q2, r), Dp.DotProduct(d3, q3, r));
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
        Store(c0, c1, c2, c3, dots + 8);
        Store(d0, d1, d2, d3, dots + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoArm(byte** q, byte* row0, byte* row1, int stride, int* dots)
    {
        Vector128<uint> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < stride; k += 16)
        {
            var r0 = Vector128.Load(row0 + k);
            var r1 = Vector128.Load(row1 + k);
            var q0 = Vector128.Load(q[0] + k);
            var q1 = Vector128.Load(q[1] + k);
            var q2 = Vector128.Load(q[2] + k);
            var q3 = Vector128.Load(q[3] + k);
            (a0, b0) = (Dp.DotProduct(a0, q0, r0), Dp.DotProduct(b0, q0, r1));
            (a1, b1) = (Dp.DotProduct(a1, q1, r0), Dp.DotProduct(b1, q1, r1));
            (a2, b2) = (Dp.DotProduct(a2, q2, r0), Dp.DotProduct(b2, q2, r1));
            (a3, b3) = (Dp.DotProduct(a3, q3, r0), Dp.DotProduct(b3, q3, r1));
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoPortable(byte** q, byte* row0, byte* row1, int stride, int* dots)
    {
        Vector128<uint> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < stride; k += 16)
        {
            var (r0Low, r0High) = Vector128.Widen(Vector128.Load(row0 + k));
            var (r1Low, r1High) = Vector128.Widen(Vector128.Load(row1 + k));
            for (int i = 0; i < 4; i++)
            {
                var (qLow, qHigh) = Vector128.Widen(Vector128.Load(q[i] + k));
                // Each uint16 lane holds two products, at most 2 x 255 x 127 = 64,770: no overflow before the widening.
                var x = Widened(qLow * r0Low + qHigh * r0High);
                var y = Widened(qLow * r1Low + qHigh * r1High);
                switch (i)
                {
                    case 0: (a0, b0) = (a0 + x, b0 + y); break;
                    case 1: (a1, b1) = (a1 + x, b1 + y); break;
                    case 2: (a2, b2) = (a2 + x, b2 + y); break;
                    default: (a3, b3) = (a3 + x, b3 + y); break;
                }
            }
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
    }

    /// <summary>The eight uint16 lanes of <paramref name="v"/> added in pairs into four uint32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Widened(Vector128<ushort> v)
    {
        var (low, high) = Vector128.Widen(v);
        return low + high;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<uint> a0, Vector128<uint> a1, Vector128<uint> a2, Vector128<uint> a3, int* dots)
    {
        (dots[0], dots[1], dots[2], dots[3]) = ((int)Vector128.Sum(a0), (int)Vector128.Sum(a1), (int)Vector128.Sum(a2), (int)Vector128.Sum(a3));
    }
}
