using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgePatchCore.Search;

/// <summary>
/// The two managed loops around the int8 GEMM on the CPU: queries to uint8 before it, and the best candidates
/// of each query from its int32 dot products after it. Both run once per frame over ~800 K values, so they are
/// written for SIMD (Vector<T>: AVX2 on x86, NEON on the Jetson) and compiled fully optimised from the first call.
/// </summary>
internal static class Int8Kernels
{
    /// <summary>
    /// destination = clamp(round(source * scale), 0, 255), rounding halves up. (The general-purpose
    /// TensorPrimitives Round + ConvertSaturating took 2-5 ms per frame; this takes about 0.4 ms.)
    /// NaN becomes 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> source, float scale, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination too short");
        int lanes = Vector<float>.Count, i = 0;
        ref float from = ref MemoryMarshal.GetReference(source);
        ref byte to = ref MemoryMarshal.GetReference(destination);
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scale);
            for (; i <= source.Length - 4 * lanes; i += 4 * lanes)
            {
                var low = Vector.Narrow(ToByteRange(ref from, i, s), ToByteRange(ref from, i + lanes, s));
                var high = Vector.Narrow(ToByteRange(ref from, i + 2 * lanes, s), ToByteRange(ref from, i + 3 * lanes, s));
                Vector.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            }
        }
        for (; i < source.Length; i++)
        {
            float v = source[i] * scale + 0.5f;
            destination[i] = v >= 255f ? (byte)255 : v >= 0f ? (byte)(int)v : (byte)0;
        }
    }

    // Truncation after + 0.5 rounds halves up for the non-negative values; the clamp makes the narrowing exact
    // (x86 converts NaN and out-of-range values to int.MinValue, clamped to 0).
    private static Vector<uint> ToByteRange(ref float from, int at, Vector<float> scale) =>
        Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ConvertToInt32(Vector.LoadUnsafe(ref from, (nuint)at) * scale + new Vector<float>(0.5f)),
            Vector<int>.Zero), new Vector<int>(255)));

    /// <summary>
    /// For each of <paramref name="queries"/> rows of <paramref name="dots"/> (q x m), the indices of the
    /// <paramref name="width"/> largest dots[j] - offsets[j] (in no particular order: they are re-ranked),
    /// into <paramref name="index"/> (q x width). Ties keep the lower index, like the graph's TopK.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SelectLargest(ReadOnlySpan<int> dots, ReadOnlySpan<float> offsets, int queries, int width, Span<long> index)
    {
        int m = offsets.Length;
        if (dots.Length < (long)queries * m || index.Length < (long)queries * width || width > m) throw new ArgumentException("span too short");
        Span<float> best = stackalloc float[width];
        Span<int> bestIndex = stackalloc int[width];
        int lanes = Vector<float>.Count;
        Span<float> laneMaxima = stackalloc float[lanes];
        int whole = Vector.IsHardwareAccelerated ? m - m % lanes : 0;
        ref float offset = ref MemoryMarshal.GetReference(offsets);
        for (int r = 0; r < queries; r++)
        {
            var row = dots.Slice(r * m, m);
            ref int first = ref MemoryMarshal.GetReference(row);
            best.Fill(float.NegativeInfinity);
            bestIndex.Fill(0);
            float floor = float.NegativeInfinity; // the width-th best so far
            // Pass 1, the row's largest score in each lane: width lanes each hold a score at least as large as
            // the width-th largest of these maxima, so nothing below it can be among the best. Pass 2 (the row
            // is in L1 by then) then looks closer at a handful of scores instead of every one that beats the
            // best so far; the passes are bound by reading the matrix, not by the comparisons.
            float bound = float.NegativeInfinity;
            if (whole > 0 && width <= lanes)
            {
                var maxima = new Vector<float>(float.NegativeInfinity);
                for (int j = 0; j < whole; j += lanes)
                    maxima = Vector.Max(maxima, Score(ref first, ref offset, j));
                maxima.CopyTo(laneMaxima);
                laneMaxima.Sort();
                bound = laneMaxima[lanes - width];
            }
            var threshold = new Vector<float>(bound);
            int k = 0;
            for (; k < whole; k += lanes)
            {
                var score = Score(ref first, ref offset, k);
                if (!Vector.GreaterThanOrEqualAny(score, threshold)) continue;
                for (int lane = 0; lane < lanes; lane++)
                {
                    float value = score[lane];
                    if (value < bound || value <= floor) continue;
                    floor = Insert(best, bestIndex, value, k + lane);
                    if (floor > bound) threshold = new Vector<float>(bound = floor);
                }
            }
            for (; k < m; k++)
            {
                float value = row[k] - offsets[k];
                if (value > floor) floor = Insert(best, bestIndex, value, k);
            }
            for (int c = 0; c < width; c++) index[r * width + c] = bestIndex[c];
        }
    }

    private static Vector<float> Score(ref int dots, ref float offsets, int at) =>
        Vector.ConvertToSingle(Vector.LoadUnsafe(ref dots, (nuint)at)) - Vector.LoadUnsafe(ref offsets, (nuint)at);

    /// <summary>Inserts into a list kept in descending order (after equal values); returns the new last value.</summary>
    private static float Insert(Span<float> best, Span<int> index, float value, int at)
    {
        int i = best.Length - 1;
        while (i > 0 && best[i - 1] < value) { best[i] = best[i - 1]; index[i] = index[i - 1]; i--; }
        best[i] = value;
        index[i] = at;
        return best[^1];
    }
}
