using EdgePatchCore.Scoring;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Search;

/// <summary>The SIMD loops of the int8 search against plain scalar references.</summary>
public class Int8KernelsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64 * 50 + 17)]
    public void Quantize_rounds_halves_up_and_clamps_to_bytes_like_the_scalar_formula(int length)
    {
        var rng = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 300 - 20)).ToArray();
        // Exact halves, the ends of the range, and values that are not numbers.
        var specials = new[] { 0.5f, 1.5f, 2.5f, 254.5f, 255f, 255.4f, 255.5f, -0.4f, -0.6f, 0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e12f };
        for (int i = 0; i < Math.Min(length, specials.Length); i++) values[i * (length / Math.Min(length, specials.Length))] = specials[i];
        var bytes = new byte[length];
        Int8Kernels.Quantize(values, 1f, bytes);
        for (int i = 0; i < length; i++)
        {
            float v = values[i];
            byte want = float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(Math.Floor((double)v + 0.5), 0, 255);
            Assert.True(want == bytes[i], $"#{i}: {v} -> {bytes[i]}, expected {want}");
        }
    }

    [Theory]
    [InlineData(5, 1)]        // fewer columns than SIMD lanes
    [InlineData(5370, 8)]     // a 1% MTD bank, the search's usual width
    [InlineData(1000, 1)]
    [InlineData(999, 16)]
    [InlineData(777, 40)]     // wider than the SIMD lanes: no first-pass bound
    public void SelectLargest_finds_the_largest_dot_minus_offset_with_ties_to_the_lower_index(int m, int width)
    {
        int q = 37;
        var rng = new Random(m + width);
        // Few distinct values, so ties are everywhere, including at the cut.
        var dots = Enumerable.Range(0, q * m).Select(_ => rng.Next(0, 40)).ToArray();
        var offsets = Enumerable.Range(0, m).Select(_ => (float)rng.Next(0, 8)).ToArray();
        var index = new long[q * width];
        Int8Kernels.SelectLargest(dots, offsets, q, width, index);
        for (int r = 0; r < q; r++)
        {
            var want = Enumerable.Range(0, m).Select(j => (Score: dots[r * m + j] - offsets[j], Index: j))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(width).Select(x => (long)x.Index).Order().ToArray();
            var got = index.AsSpan(r * width, width).ToArray().Order().ToArray();
            Assert.Equal(want, got);
        }
    }

    [Fact]
    public void A_bank_too_large_to_be_a_graph_constant_is_bound_as_an_input_with_the_same_results()
    {
        int m = 900, d = 64, q = 200;
        var rng = new Random(4);
        var bank = Enumerable.Range(0, m * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var queries = Enumerable.Range(0, q * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var cpu = new ExecutionDevice(DeviceKind.Cpu);
        using var constant = BankSearches.Create(bank, m, d, cpu, BankPrecision.Int8, new SearchTuning(Int8SelectionInGraph: false));
        using var bound = BankSearches.Create(bank, m, d, cpu, BankPrecision.Int8, new SearchTuning(Int8SelectionInGraph: false, ConstantBankLimit: 0));
        var (d1, i1, d2, i2) = (new float[q * 3], new int[q * 3], new float[q * 3], new int[q * 3]);
        constant.Search(queries, q, 3, d1, i1);
        bound.Search(queries, q, 3, d2, i2);
        Assert.Equal(i2, i1);
        Assert.Equal(d2, d1);
    }

    /// <summary>
    /// x86 CPUs without VNNI get 7-bit queries (their u8 x s8 instruction saturates at int16): coarser candidates,
    /// but re-ranked exactly, so the rows and distances are float32's (checked on the data where 8-bit and 7-bit
    /// runs pick different candidates).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Int8_with_8_or_7_bit_queries_finds_float32s_rows_and_distances(bool reduced)
    {
        int m = 2000, d = 256, q = 300;
        var rng = new Random(12);
        var bank = Enumerable.Range(0, m * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var queries = Enumerable.Range(0, q * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var cpu = new ExecutionDevice(DeviceKind.Cpu);
        using var exact = BankSearches.Create(bank, m, d, cpu, BankPrecision.Float32);
        using var int8 = BankSearches.Create(bank, m, d, cpu, BankPrecision.Int8, new SearchTuning(ReducedQueryRange: reduced));
        var (d1, i1, d2, i2) = (new float[q * 3], new int[q * 3], new float[q * 3], new int[q * 3]);
        exact.Search(queries, q, 3, d1, i1);
        int8.Search(queries, q, 3, d2, i2);
        Assert.Equal(i1, i2);
        for (int i = 0; i < q * 3; i++) Assert.True(Math.Abs(d1[i] - d2[i]) <= 1e-5 * d1[i], $"#{i}: {d2[i]} vs {d1[i]}");
    }
}
