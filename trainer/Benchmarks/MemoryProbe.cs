using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// The machine's achievable read bandwidth: a plain SIMD read of a large array on all cores, best of many
/// repetitions over at least half a second (one read of a cache-sized array takes milliseconds, and a shared
/// machine's noise would otherwise set the figure).
/// </summary>
public static class MemoryProbe
{
    public static double ReadBandwidth(ReadOnlyMemory<byte> data)
    {
        int workers = Environment.ProcessorCount;
        double best = 0;
        var sinks = new long[workers];
        var total = Stopwatch.StartNew();
        for (int rep = 0; rep < 5 || total.Elapsed.TotalSeconds < 0.5; rep++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, workers, w =>
            {
                long lo = data.Length * (long)w / workers, hi = data.Length * (long)(w + 1) / workers;
                var span = MemoryMarshal.Cast<byte, Vector256<long>>(data.Span[(int)lo..(int)hi]);
                var acc = Vector256<long>.Zero;
                for (int i = 0; i < span.Length; i++) acc += span[i];
                sinks[w] = Vector256.Sum(acc);
            });
            best = Math.Max(best, data.Length / clock.Elapsed.TotalSeconds);
        }
        GC.KeepAlive(sinks);
        return best;
    }
}
