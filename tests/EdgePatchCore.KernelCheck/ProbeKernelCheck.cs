using EdgePatchCore.Scoring;

namespace EdgePatchCore.KernelCheck;

/// <summary>
/// The bounded search's int8 probe (<see cref="CellProbe"/>) with every kernel this CPU runs, on random banks and queries: the
/// rows each proposes are among the truly nearest (within int8 rounding), the second best never beats the first, a one-row
/// range proposes one row, a part of the cell order proposes rows from that part only, and kernels with the same query range
/// (<see cref="ProbeDots.QueryLevels"/>) give the same scores and rows, in any block of one to four queries.
/// </summary>
internal static class ProbeKernelCheck
{
    /// <summary>Bank rows and dimensions checked: the scan takes rows four, then two, then one at a time, so row counts of every
    /// remainder by four; dimensions off the 32-byte step; a one-row cell; a real patch width.</summary>
    public static readonly (int Rows, int Dimensions)[] Cases = [(43, 24), (57, 64), (1, 32), (2, 40), (300, 1024)];

    public static IReadOnlyList<ProbeKernel> Kernels() => Enum.GetValues<ProbeKernel>().Where(ProbeDots.IsSupported).ToList();

    /// <summary>What fails for a bank of <paramref name="rows"/> x <paramref name="d"/>; empty when every check passes.</summary>
    public static List<string> Failures(int rows, int d)
    {
        var failures = new List<string>();
        var rng = new Random(rows * 31 + d);
        var bank = Enumerable.Range(0, rows * d).Select(_ => (float)rng.NextDouble() * 3f).ToArray();
        var queries = Enumerable.Range(0, 6 * d).Select(_ => (float)rng.NextDouble() * 3f).ToArray();
        var members = Enumerable.Range(0, rows).Reverse().ToArray(); // cell order differs from bank order
        var probes = Kernels().Select(kernel => (Name: kernel.ToString(), Probe: new CellProbe(bank, rows, d, members, kernel)))
            .Append(("default", new CellProbe(bank, rows, d, members))).ToList();
        foreach (var (_, probe) in probes) probe.SetQueries(queries, 6, d);
        int k = CellProbe.Candidates;
        for (int count = 1; count <= 4; count++)
        {
            int[] which = Enumerable.Range(6 - count, count).ToArray();
            var results = new List<(string Name, float Levels, int[] Rows, float[] Scores)>();
            foreach (var (name, probe) in probes)
            {
                var (best, proposed) = (new float[4 * k], new int[4 * k]);
                probe.Scan(which, 0, rows, best, proposed);
                results.Add((name, probe.QueryLevels, proposed, best));
                for (int i = 0; i < count; i++)
                {
                    var query = queries.AsSpan(which[i] * d, d).ToArray();
                    float Distance(int row) => MathF.Sqrt(Enumerable.Range(0, d).Sum(t => MathF.Pow(query[t] - bank[row * d + t], 2)));
                    float nearest = Enumerable.Range(0, rows).Min(Distance);
                    if (Distance(proposed[i * k]) > nearest * 1.05f + 0.05f)
                        failures.Add($"{name}, {rows} x {d}, query {which[i]}: proposed row at {Distance(proposed[i * k])}, the nearest at {nearest}");
                    if (rows > 1 && !(best[i * k] >= best[i * k + 1] && proposed[i * k] != proposed[i * k + 1]))
                        failures.Add($"{name}, {rows} x {d}, query {which[i]}: the second candidate is not below the first");
                    if (rows == 1 && proposed[i * k + 1] != -1) failures.Add($"{name}, one row: a second candidate {proposed[i * k + 1]}");
                }
            }
            foreach (var group in results.GroupBy(r => r.Levels))
                foreach (var r in group.Where(r => !r.Rows.SequenceEqual(group.First().Rows) || !r.Scores.SequenceEqual(group.First().Scores)))
                    failures.Add($"{r.Name} and {group.First().Name} (queries up to {r.Levels}), {rows} x {d}, {count} queries: different scores");
        }
        foreach (var (name, probe) in probes)
        {
            var (scores, part) = (new float[4 * k], new int[4 * k]);
            probe.Scan([0], rows / 2, rows, scores, part);
            if (part.Take(k).Any(r => r >= 0 && !members[(rows / 2)..].Contains(r)))
                failures.Add($"{name}, {rows} x {d}: a row from outside the range scanned");
        }
        return failures;
    }
}
