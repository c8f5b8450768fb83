using System.Diagnostics;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.KernelCheck;

/// <summary>
/// Times each probe kernel this CPU runs on one cell of a tiled bank's average size (60 rows of 1024 dimensions) scanned for 64
/// patches in blocks of four, against a plain loop over the same bytes, one at a time (what a CPU without SIMD would run):
/// best of five, as a ratio to that loop, both measured here. Under emulation the figures say what the emulator does, not what
/// the CPU would.
/// </summary>
internal static class ProbeKernelTiming
{
    private const int Rows = 60, Dimensions = 1024, Patches = 64, Rounds = 5;

    public static IEnumerable<string> Run()
    {
        var rng = new Random(5);
        var bank = Enumerable.Range(0, Rows * Dimensions).Select(_ => (float)rng.NextDouble()).ToArray();
        var queries = Enumerable.Range(0, Patches * Dimensions).Select(_ => (float)rng.NextDouble()).ToArray();
        double plain = Best(PlainLoop(rng));
        yield return $"plain loop      {plain,8:F3} ms for {Patches} patches x {Rows} rows x {Dimensions} dimensions";
        foreach (var kernel in ProbeKernelCheck.Kernels())
        {
            var probe = new CellProbe(bank, Rows, Dimensions, Enumerable.Range(0, Rows).ToArray(), kernel);
            probe.SetQueries(queries, Patches, Dimensions);
            var (best, rows) = (new float[4 * CellProbe.Candidates], new int[4 * CellProbe.Candidates]);
            var block = new int[4];
            double ms = Best(() =>
            {
                for (int q = 0; q < Patches; q += 4)
                {
                    for (int b = 0; b < 4; b++) block[b] = q + b;
                    probe.Scan(block, 0, Rows, best, rows);
                }
            });
            yield return $"{kernel,-15} {ms,8:F3} ms, {plain / ms,6:F1}x the plain loop";
        }
    }

    /// <summary>The dot products of the same shape, a byte at a time: four patches by two rows, as the scan blocks them.</summary>
    private static Action PlainLoop(Random rng)
    {
        var patches = new byte[Patches * Dimensions];
        var bank = new byte[Rows * Dimensions];
        rng.NextBytes(patches);
        rng.NextBytes(bank);
        var dots = new int[8];
        return () =>
        {
            for (int q = 0; q < Patches; q += 4)
                for (int r = 0; r < Rows; r += 2)
                    for (int i = 0; i < 4; i++)
                    {
                        int a = 0, b = 0, p = (q + i) * Dimensions, r0 = r * Dimensions, r1 = r0 + Dimensions;
                        for (int k = 0; k < Dimensions; k++) (a, b) = (a + patches[p + k] * bank[r0 + k], b + patches[p + k] * bank[r1 + k]);
                        (dots[i], dots[4 + i]) = (a, b);
                    }
        };
    }

    private static double Best(Action run)
    {
        run(); // compiled and in cache
        double best = double.MaxValue;
        for (int i = 0; i < Rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
        }
        return best;
    }
}
