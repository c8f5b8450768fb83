using EdgePatchCore.Features;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Tests.Scoring;

public class NearestNeighbourSearchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Graph_equals_brute_force_in_managed_code(int k)
    {
        var rng = new Random(11);
        int m = 300, d = 64, q = 50;
        var bank = Enumerable.Range(0, m * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var queries = Enumerable.Range(0, q * d).Select(_ => (float)rng.NextDouble()).ToArray();
        using var knn = new NearestNeighbourSearch(bank, m, d, new ExecutionDevice(DeviceKind.Cpu));
        var distances = new float[q * k];
        var indices = new int[q * k];
        knn.Search(queries, q, k, distances, indices);
        for (int i = 0; i < q; i++)
        {
            var expected = Enumerable.Range(0, m)
                .Select(j => (Index: j, Distance: Math.Sqrt(Enumerable.Range(0, d).Sum(t => Math.Pow(queries[i * d + t] - bank[j * d + t], 2)))))
                .OrderBy(x => x.Distance).Take(k).ToArray();
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(expected[j].Index, indices[i * k + j]);
                Assert.Equal(expected[j].Distance, distances[i * k + j], 1e-3);
            }
        }
    }

    [Fact]
    public void A_query_equal_to_a_bank_row_has_distance_zero_not_nan()
    {
        var bank = new float[] { 1, 2, 3, 4, 5, 6 };
        using var knn = new NearestNeighbourSearch(bank, 2, 3, new ExecutionDevice(DeviceKind.Cpu));
        var distances = new float[1];
        var indices = new int[1];
        knn.Search(new float[] { 4, 5, 6 }, 1, 1, distances, indices);
        Assert.Equal(1, indices[0]);
        Assert.Equal(0f, distances[0], 1e-3f); // the GEMM form can go slightly negative: clamped before the root
        Assert.False(float.IsNaN(knn.Distance([4f, 5, 6], 1)));
    }
}
