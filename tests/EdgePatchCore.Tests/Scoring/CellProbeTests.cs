using EdgePatchCore.Scoring;

namespace EdgePatchCore.Tests.Scoring;

/// <summary>
/// The bounded search's int8 probe: the rows it proposes are those with the best int8 score, computed the same way by
/// every kernel (AVX-VNNI, AVX2), in any block of one to four queries and any range of rows, odd counts included.
/// </summary>
public class CellProbeTests
{
    [Theory]
    [InlineData(40, 24)]  // rows and dimensions not a multiple of the 32-byte step
    [InlineData(57, 64)]
    [InlineData(1, 32)]   // a one-row cell
    public void Every_kernel_proposes_the_rows_with_the_best_int8_score(int rows, int d)
    {
        var rng = new Random(rows * 31 + d);
        var bank = Enumerable.Range(0, rows * d).Select(_ => (float)rng.NextDouble() * 3f).ToArray();
        var queries = Enumerable.Range(0, 6 * d).Select(_ => (float)rng.NextDouble() * 3f).ToArray();
        var members = Enumerable.Range(0, rows).Reverse().ToArray(); // cell order differs from bank order
        var vnni = new CellProbe(bank, rows, d, members);
        var avx2 = new CellProbe(bank, rows, d, members, allowVnni: false);
        foreach (var probe in new[] { vnni, avx2 }) probe.SetQueries(queries, 6, d);
        int k = CellProbe.Candidates;
        for (int count = 1; count <= 4; count++)
        {
            int[] which = Enumerable.Range(6 - count, count).ToArray();
            var results = new List<int[]>();
            foreach (var probe in new[] { vnni, avx2 })
            {
                var (best, proposed) = (new float[4 * k], new int[4 * k]);
                probe.Scan(which, 0, rows, best, proposed);
                results.Add(proposed);
                for (int i = 0; i < count; i++)
                {
                    // The best proposed row is among the truly nearest: its distance is within int8 rounding of the nearest one's.
                    var query = queries.AsSpan(which[i] * d, d).ToArray();
                    float Distance(int row) => MathF.Sqrt(Enumerable.Range(0, d).Sum(t => MathF.Pow(query[t] - bank[row * d + t], 2)));
                    float nearest = Enumerable.Range(0, rows).Min(Distance);
                    Assert.True(Distance(proposed[i * k]) <= nearest * 1.05f + 0.05f, $"query {which[i]}: {Distance(proposed[i * k])} vs {nearest}");
                    if (rows > 1) Assert.True(best[i * k] >= best[i * k + 1] && proposed[i * k] != proposed[i * k + 1]);
                    else Assert.Equal(-1, proposed[i * k + 1]);
                }
            }
            if (vnni.QueryLevels == avx2.QueryLevels) Assert.Equal(results[0], results[1]); // the same integers (no VNNI: AVX2 twice)
        }
        // A range within the cell order: only rows from it are proposed.
        var (scores, part) = (new float[4 * k], new int[4 * k]);
        vnni.Scan([0], rows / 2, rows, scores, part);
        Assert.All(part.Take(k).Where(r => r >= 0), r => Assert.Contains(r, members[(rows / 2)..]));
    }
}
