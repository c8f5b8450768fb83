using EdgePatchCore.Scoring;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Search;

public class NearestNeighbourSearchTests
{
    private static (float[] Bank, float[] Queries) Data(int m, int d, int q, int seed)
    {
        // Non-negative, like patch features (averages of ReLU outputs).
        var rng = new Random(seed);
        var bank = Enumerable.Range(0, m * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var queries = Enumerable.Range(0, q * d).Select(_ => (float)rng.NextDouble()).ToArray();
        return (bank, queries);
    }

    private static (int Index, double Distance)[] BruteForce(float[] bank, int m, int d, ReadOnlySpan<float> query, int k)
    {
        var rows = new (int, double)[m];
        for (int j = 0; j < m; j++)
        {
            double sum = 0;
            for (int t = 0; t < d; t++) sum += Math.Pow(query[t] - bank[j * d + t], 2);
            rows[j] = (j, Math.Sqrt(sum));
        }
        return rows.OrderBy(x => x.Item2).ThenBy(x => x.Item1).Take(k).ToArray();
    }

    /// <summary>
    /// Likeliest (the first stage alone, for steering): k distinct rows per query; the exact search's own k nearest where the path
    /// has no first stage (float32); at int8 and float16 the low-precision ranking, which on these rows holds the true nearest of
    /// nearly every query.
    /// </summary>
    [Theory]
    [InlineData(BankPrecision.Float32)]
    [InlineData(BankPrecision.Int8)]
    [InlineData(BankPrecision.Float16)]
    public void Likeliest_rows_are_distinct_and_hold_the_nearest(BankPrecision precision)
    {
        int m = 500, d = 64, q = 80, k = 6;
        var (bank, queries) = Data(m, d, q, seed: 12);
        using var knn = BankSearches.Create(bank, m, d, new ExecutionDevice(DeviceKind.Cpu), precision);
        var likeliest = new int[q * k];
        knn.Likeliest(queries, q, k, likeliest);
        int holding = 0;
        for (int i = 0; i < q; i++)
        {
            var rows = likeliest.AsSpan(i * k, k).ToArray();
            Assert.Equal(k, rows.Distinct().Count());
            Assert.All(rows, r => Assert.InRange(r, 0, m - 1));
            var expected = BruteForce(bank, m, d, queries.AsSpan(i * d, d), k).Select(x => x.Index).ToArray();
            if (precision == BankPrecision.Float32) Assert.Equal(expected.Order(), rows.Order());
            if (rows.Contains(expected[0])) holding++;
        }
        Assert.True(holding >= q * 95 / 100, $"the nearest row is among the likeliest for {holding} of {q} queries");
        Assert.Throws<ArgumentOutOfRangeException>(() => knn.Likeliest(queries, q, m + 1, new int[q * (m + 1)]));
    }

    /// <summary>
    /// The tolerance each precision promises against a double-precision brute force over the float32 bank:
    /// float32 and int8 (exact re-rank of int8 candidates) find the same rows, distances within 1e-5 relative;
    /// float16 finds rows whose distance is within 1e-3 relative of the true k-th nearest (its bank is rounded
    /// to 11 significant bits, so near ties may swap), distances within 1e-3 relative.
    /// </summary>
    [Theory]
    [InlineData(BankPrecision.Float32, 1)]
    [InlineData(BankPrecision.Float32, 5)]
    [InlineData(BankPrecision.Int8, 1)]
    [InlineData(BankPrecision.Int8, 5)]
    [InlineData(BankPrecision.Float16, 1)]
    [InlineData(BankPrecision.Float16, 5)]
    public void Search_equals_brute_force_in_managed_code_within_the_precision_tolerance(BankPrecision precision, int k)
    {
        int m = 700, d = 96, q = 60;
        var (bank, queries) = Data(m, d, q, seed: 11);
        using var knn = BankSearches.Create(bank, m, d, new ExecutionDevice(DeviceKind.Cpu), precision);
        var distances = new float[q * k];
        var indices = new int[q * k];
        knn.Search(queries, q, k, distances, indices);
        double tolerance = precision == BankPrecision.Float16 ? 1e-3 : 1e-5;
        for (int i = 0; i < q; i++)
        {
            var expected = BruteForce(bank, m, d, queries.AsSpan(i * d, d), k);
            for (int j = 0; j < k; j++)
            {
                double got = distances[i * k + j], want = expected[j].Distance;
                Assert.True(Math.Abs(got - want) <= tolerance * want, $"query {i} rank {j}: {got} vs {want}");
                if (precision == BankPrecision.Float16)
                {
                    // The row found is as near as the true one, within the tolerance (exactly, in double).
                    double actual = Math.Sqrt(Enumerable.Range(0, d).Sum(t => Math.Pow(queries[i * d + t] - bank[indices[i * k + j] * d + t], 2)));
                    Assert.True(actual <= want * (1 + tolerance), $"query {i} rank {j}: row at {actual}, nearest at {want}");
                }
                else Assert.Equal(expected[j].Index, indices[i * k + j]);
            }
        }
    }

    [Theory]
    [InlineData(BankPrecision.Float32)]
    [InlineData(BankPrecision.Float16)]
    [InlineData(BankPrecision.Int8)]
    public void Many_queries_in_chunks_equal_one_query_at_a_time(BankPrecision precision)
    {
        // 20,000 rows: at most 2,516 queries per run (int8 on the CPU: 419), so 3,000 queries run in several chunks.
        int m = 20_000, d = 16, q = 3000;
        var (bank, queries) = Data(m, d, q, seed: 5);
        using var knn = BankSearches.Create(bank, m, d, new ExecutionDevice(DeviceKind.Cpu), precision);
        var all = new float[q];
        var allIndex = new int[q];
        knn.Search(queries, q, 1, all, allIndex);
        var one = new float[1];
        var oneIndex = new int[1];
        for (int i = 0; i < q; i += 97)
        {
            knn.Search(queries.AsSpan(i * d, d), 1, 1, one, oneIndex);
            Assert.Equal(oneIndex[0], allIndex[i]);
            Assert.Equal(one[0], all[i], 1e-5f * one[0]);
        }
    }

    /// <summary>
    /// The device path (CUDA under packaging/gpu-check.sh, the CPU provider in CI) against the CPU: the bank
    /// uploaded once and bound, every node of the graphs run by CUDA (loading fails otherwise), the same rows
    /// found, distances within 1e-4 relative (float32, int8; GEMMs sum in different orders) or 1e-3 (float16,
    /// whose GPU GEMM also accumulates in half precision).
    /// </summary>
    [Theory]
    [Trait("Category", GpuTests.Category)]
    [InlineData(BankPrecision.Float32)]
    [InlineData(BankPrecision.Float16)]
    [InlineData(BankPrecision.Int8)]
    public void Device_search_equals_the_cpu_search(BankPrecision precision)
    {
        int m = 5000, d = 256, q = 784;
        var (bank, queries) = Data(m, d, q, seed: 3);
        var device = new ExecutionDevice(GpuTests.Device);
        using var onDevice = BankSearches.Create(bank, m, d, device, precision, new SearchTuning(RequireDeviceForEveryNode: true));
        Assert.Equal(GpuTests.Device, device.Actual);
        using var onCpu = BankSearches.Create(bank, m, d, new ExecutionDevice(DeviceKind.Cpu), precision);
        foreach (int k in new[] { 1, 9 })
        {
            var (d1, i1, d2, i2) = (new float[q * k], new int[q * k], new float[q * k], new int[q * k]);
            onDevice.Search(queries, q, k, d1, i1);
            onCpu.Search(queries, q, k, d2, i2);
            double tolerance = precision == BankPrecision.Float16 ? 1e-3 : 1e-4;
            int same = 0;
            for (int i = 0; i < q * k; i++)
            {
                Assert.True(Math.Abs(d1[i] - d2[i]) <= tolerance * d2[i], $"k={k} #{i}: {d1[i]} vs {d2[i]}");
                if (i1[i] == i2[i]) same++;
            }
            Assert.True(same >= q * k * 0.99, $"k={k}: same rows for {same} of {q * k}"); // near ties may swap
        }
    }

    /// <summary>
    /// The CUDA int8 graph (int8 x int8 MatMulInteger on 7-bit queries, Cast + Sub + TopK), run here on the CPU
    /// provider, against the CPU's path (uint8 x int8 on 8-bit queries, candidates picked in managed code):
    /// different candidates at most, the same rows and distances after the exact re-rank.
    /// </summary>
    [Fact]
    public void Int8_search_with_candidates_picked_in_managed_code_equals_the_graph_selection_used_on_cuda()
    {
        int m = 3000, d = 128, q = 500;
        var (bank, queries) = Data(m, d, q, seed: 8);
        var cpu = new ExecutionDevice(DeviceKind.Cpu);
        using var managed = BankSearches.Create(bank, m, d, cpu, BankPrecision.Int8, new SearchTuning(Int8SelectionInGraph: false));
        using var graph = BankSearches.Create(bank, m, d, cpu, BankPrecision.Int8, new SearchTuning(Int8SelectionInGraph: true));
        foreach (int k in new[] { 1, 3 })
        {
            var (d1, i1, d2, i2) = (new float[q * k], new int[q * k], new float[q * k], new int[q * k]);
            managed.Search(queries, q, k, d1, i1);
            graph.Search(queries, q, k, d2, i2);
            Assert.Equal(i2, i1);
            Assert.Equal(d2, d1);
        }
    }

    [Fact]
    public void A_query_equal_to_a_bank_row_has_distance_zero_not_nan()
    {
        var bank = new float[] { 1, 2, 3, 4, 5, 6 };
        foreach (var precision in Enum.GetValues<BankPrecision>())
        {
            using var knn = BankSearches.Create(bank, 2, 3, new ExecutionDevice(DeviceKind.Cpu), precision);
            var distances = new float[1];
            var indices = new int[1];
            knn.Search(new float[] { 4, 5, 6 }, 1, 1, distances, indices);
            Assert.Equal(1, indices[0]);
            Assert.Equal(0f, distances[0], 1e-3f); // the GEMM form can go slightly negative: clamped before the root
            Assert.False(float.IsNaN(knn.Distance([4f, 5, 6], 1)));
        }
    }

    [Theory]
    [InlineData(BankPrecision.Float32)]
    [InlineData(BankPrecision.Float16)]
    [InlineData(BankPrecision.Int8)]
    public void No_queries_is_no_work_and_no_error(BankPrecision precision)
    {
        var (bank, _) = Data(50, 8, 0, seed: 2);
        using var knn = BankSearches.Create(bank, 50, 8, new ExecutionDevice(DeviceKind.Cpu), precision);
        knn.Search([], 0, 1, [], []);
        Assert.Throws<ArgumentOutOfRangeException>(() => knn.Search([], -1, 1, [], []));
    }

    [Fact]
    public void Int8_refuses_a_bank_with_negative_values_and_says_what_to_use()
    {
        var e = Assert.Throws<ArgumentException>(() => BankSearches.Create([1f, -2f, 3f, 4f], 2, 2, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Int8));
        Assert.Contains("float32 or float16", e.Message);
    }

    [Fact]
    public void Precision_names_parse_and_unknown_ones_are_refused()
    {
        Assert.Equal(BankPrecision.Int8, BankSearches.ParsePrecision("INT8"));
        Assert.Equal(BankPrecision.Float16, BankSearches.ParsePrecision("fp16"));
        Assert.Equal(BankPrecision.Auto, BankSearches.ParsePrecision("auto"));
        var cpu = new EdgePatchCore.Devices.ExecutionDevice(EdgePatchCore.Devices.DeviceKind.Cpu);
        using (cpu.CreateSessionOptions()) { }
        var expected = System.Runtime.Intrinsics.X86.Avx2.IsSupported || System.Runtime.Intrinsics.Arm.Dp.IsSupported ? BankPrecision.Int8 : BankPrecision.Float32;
        Assert.Equal(expected, BankPrecisions.Resolve(BankPrecision.Auto, cpu).Precision);
        Assert.Equal(BankPrecision.Float32, BankPrecisions.Resolve(BankPrecision.Float32, cpu).Precision); // an explicit choice stays
        Assert.Contains("expected auto, float32, float16 or int8", Assert.Throws<ArgumentException>(() => BankSearches.ParsePrecision("int4")).Message);
    }
}
