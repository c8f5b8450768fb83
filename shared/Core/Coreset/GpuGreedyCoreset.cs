using EdgePatchCore.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace EdgePatchCore.Coreset;

/// <summary>
/// The plain greedy k-center on a GPU (ILGPU kernels; CUDA on the workstation, ILGPU's CPU accelerator in tests).
/// The points and the running minima stay on the device; per step one kernel updates every point's minimum for
/// the new centre and folds (minimum, index) into one 64-bit key with an atomic maximum, and only that key comes
/// back. Distances are exact integers over the int8 rows, and the key orders by distance, then by the lowest
/// index, so the indices equal <see cref="GreedyCoreset"/>'s.
/// </summary>
public static class GpuGreedyCoreset
{
    /// <summary>ILGPU on the first CUDA device, or null with the reason (no driver, no device).</summary>
    public static GpuAccelerator? TryOpenCuda(out string reason)
    {
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda());
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                context.Dispose();
                reason = "no CUDA device found";
                return null;
            }
            reason = "";
            return new GpuAccelerator(context, devices[0].CreateAccelerator(context));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            reason = e.Message.Split('\n')[0];
            return null;
        }
    }

    /// <summary>ILGPU's CPU accelerator: the same kernel, simulated on the CPU (for tests and machines without CUDA).</summary>
    public static GpuAccelerator OpenCpu()
    {
        var context = Context.Create(builder => builder.CPU());
        return new GpuAccelerator(context, context.GetCPUDevice(0).CreateAccelerator(context));
    }

    public static CoresetResult Select(QuantizedRows rows, int size, int seed, Accelerator accelerator,
                                       IProgress<StageProgress>? progress = null, CancellationToken cancel = default)
    {
        int n = rows.Count, words = (rows.Dimensions + 3) / 4;
        size = Math.Clamp(size, 1, n);

        // Word-major: word w of every point is contiguous, so neighbouring threads read neighbouring words.
        var packed = new int[(long)words * n];
        for (int p = 0; p < n; p++)
        {
            var row = rows.Row(p);
            for (int k = 0; k < row.Length; k++)
                packed[(long)(k / 4) * n + p] |= (byte)row[k] << (8 * (k % 4));
        }
        var start = new int[n];
        Array.Fill(start, int.MaxValue);

        using var points = accelerator.Allocate1D(packed);
        packed = null!;
        using var minDist = accelerator.Allocate1D(start);
        using var nearest = accelerator.Allocate1D<int>(n);
        nearest.MemSetToZero();
        using var keys = accelerator.Allocate1D(new[] { long.MinValue, long.MinValue });
        var step = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<long>,
            StepArguments>(Step);
        int threads = (int)Math.Min(n, Math.Max(1024L, accelerator.NumMultiprocessors * (long)accelerator.MaxNumThreadsPerMultiprocessor));

        var indices = new int[size];
        var key = new long[1];
        int next = GreedyCoreset.StartIndex(n, seed);
        long farthest = 0;
        int progressEvery = Math.Max(1, size / 500);
        var trace = new List<(int, float)>();
        for (int s = 0; s < size; s++)
        {
            cancel.ThrowIfCancellationRequested();
            indices[s] = next;
            int slot = s % 2;
            step(threads, points.View, minDist.View, nearest.View, keys.View, new StepArguments(n, words, threads, next, slot, s));
            keys.View.SubView(slot, 1).CopyToCPU(key);
            farthest = key[0] >> 32;
            next = int.MaxValue - (int)(key[0] & 0xFFFFFFFF);
            if (s % progressEvery == 0 || s == size - 1)
            {
                trace.Add((s + 1, MathF.Sqrt(farthest) * rows.Scale));
                progress?.Report(new StageProgress("coreset", s + 1, size, $"radius {MathF.Sqrt(farthest) * rows.Scale:G4}"));
            }
        }
        long blocks = (long)size * n * ((rows.Dimensions + 31) / 32);
        return new CoresetResult(indices, MathF.Sqrt(farthest) * rows.Scale, blocks, blocks, minDist.GetAsArray1D(), nearest.GetAsArray1D())
        {
            RadiusTrace = trace,
            Passes = size,
        };
    }

    /// <summary>The scalar arguments of one step (a plain struct: ILGPU passes it by value).</summary>
    public struct StepArguments(int count, int words, int threads, int centre, int slot, int step)
    {
        public int Count = count, Words = words, Threads = threads, Centre = centre, Slot = slot, Step = step;
    }

    /// <summary>
    /// One greedy step: thread t handles points t, t + T, ...; the key is minimum &lt;&lt; 32 | (int.MaxValue - index),
    /// so the largest key is the farthest point, ties going to the lowest index. Each thread also clears the
    /// other slot for the next step (kernels on one stream run in order).
    /// </summary>
    private static void Step(Index1D thread, ArrayView<int> points, ArrayView<int> minDist, ArrayView<int> nearest, ArrayView<long> keys,
        StepArguments a)
    {
        long best = long.MinValue;
        long n = a.Count;
        for (long i = thread.X; i < n; i += a.Threads)
        {
            int sum = 0;
            for (int w = 0; w < a.Words; w++)
            {
                int x = points[w * n + i], c = points[w * n + a.Centre];
                int d0 = ((x << 24) >> 24) - ((c << 24) >> 24);
                int d1 = ((x << 16) >> 24) - ((c << 16) >> 24);
                int d2 = ((x << 8) >> 24) - ((c << 8) >> 24);
                int d3 = (x >> 24) - (c >> 24);
                sum += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
            }
            int m = minDist[i];
            if (sum < m)
            {
                m = sum;
                minDist[i] = m;
                nearest[i] = a.Step;
            }
            long key = ((long)m << 32) | (uint)(int.MaxValue - (int)i);
            if (key > best) best = key;
        }
        if (best > keys[a.Slot]) Atomic.Max(ref keys[a.Slot], best);
        if (thread.X == 0) keys[1 - a.Slot] = long.MinValue;
    }
}
