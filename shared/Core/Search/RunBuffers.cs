using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Search;

/// <summary>
/// A search's per-run outputs (indices, and for float32 the partial distances), q x width, allocated once for the
/// largest run and pinned, with ONNX Runtime tensors over them made once per (q, width) and reused. A width
/// larger than the buffers were made for (k > 64 on a large run) grows them and drops the tensors over the old ones.
/// <c>queryTensor</c> makes the input tensor over the search's own query buffer for q queries (once per q and width).
/// </summary>
internal sealed class RunBuffers(int largestRun, int width, bool withPartial, Func<int, OrtValue> queryTensor) : IDisposable
{
    /// <summary>The width the buffers are made for: k up to 64, or its 2k candidates (at least 8, at most the bank).</summary>
    public static int DefaultWidth(int rows) => Math.Min(rows, Math.Max(NearestNeighbourSearch.MinimumCandidates, 2 * Math.Min(rows, 64)));

    private readonly Dictionary<(int Q, int Width), Run> _runs = [];
    private readonly int _largestRun = largestRun;

    /// <summary>q x width nearest (or candidate) bank indices of the last run.</summary>
    public long[] Index { get; private set; } = GC.AllocateArray<long>(largestRun * width, pinned: true);

    /// <summary>Float32: q x width values ||m||^2 - 2 q.m of the last run.</summary>
    public float[] Partial { get; private set; } = withPartial ? GC.AllocateArray<float>(largestRun * width, pinned: true) : [];

    /// <summary>The tensors for a run of q queries and width outputs each (made on first use, then reused).</summary>
    public Run For(int q, int width)
    {
        if ((long)q * width > Index.Length)
        {
            Clear();
            int size = Math.Max(_largestRun, q) * width;
            Index = GC.AllocateArray<long>(size, pinned: true);
            if (Partial.Length > 0) Partial = GC.AllocateArray<float>(size, pinned: true);
        }
        if (_runs.TryGetValue((q, width), out var run)) return run;
        var index = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Index.AsMemory(0, q * width), [q, width]);
        var partial = Partial.Length > 0
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Partial.AsMemory(0, q * width), [q, width])
            : null;
        run = new Run(queryTensor(q), index, partial);
        _runs[(q, width)] = run;
        return run;
    }

    /// <summary>Drops every tensor (call when a buffer they point into is replaced).</summary>
    public void Clear()
    {
        foreach (var run in _runs.Values) run.Dispose();
        _runs.Clear();
    }

    public void Dispose() => Clear();

    public sealed record Run(OrtValue Query, OrtValue Index, OrtValue? Partial) : IDisposable
    {
        public void Dispose()
        {
            Query.Dispose();
            Index.Dispose();
            Partial?.Dispose();
        }
    }
}
