using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Features;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace EdgePatchCore.Scoring;

/// <summary>How the search holds the bank. The artifact always stores float32; the others are made at load.</summary>
public enum BankPrecision
{
    /// <summary>Exact: squared distances by one float32 GEMM, nearest by ArgMin/TopK.</summary>
    Float32 = 0,
    /// <summary>
    /// For GPUs: half the bank's device memory and the GEMM on tensor cores; candidates by a float16 GEMM,
    /// re-ranked in float32. (On an x86 CPU ONNX Runtime has no half Gemm and converts the bank to float32 on
    /// every run: no faster, and more memory, than float32.)
    /// </summary>
    Float16 = 1,
    /// <summary>
    /// 2.5-3x the float32 search's speed on a CPU with VNNI (a quarter of the bank's bytes streamed): candidates
    /// by an int8 GEMM, re-ranked exactly against the float32 rows, which stay in host memory for that.
    /// </summary>
    Int8 = 2,
    /// <summary>The fast one that gives the same results on this device: see <see cref="BankPrecisions.Resolve"/>.</summary>
    Auto = 3,
}

/// <summary>
/// k-nearest-neighbour search of query rows against a memory bank, run by ONNX Runtime on the CPU or
/// CUDA with one graph per precision (<see cref="KnnGraphs"/>). The bank is copied to the execution
/// device once, here, and stays bound to the session (IOBinding); per run only the queries go in and
/// k indices (and distances) per query come out, into buffers allocated once. (Int8 on the CPU: the bank is
/// a constant of the graph instead, so that ONNX Runtime packs it for its GEMM once, not on every run.)
/// Searches are serialised (they share those buffers).
/// Float16 and Int8 ask the GEMM for the nearest few candidates (at least <see cref="MinimumCandidates"/>)
/// and rank those by their exact distance; on MTD features the exact nearest row is among 4 int8 candidates
/// for every patch tested.
/// </summary>
public sealed class NearestNeighbourSearch : IDisposable
{
    // Scores of Q x M per run: 48 Mi values (192 MB as float32). A frame (784 patches) against a 10% MTD bank
    // (53,704 rows) then runs as one GEMM: each run re-packs the bank for the GEMM (a pass over all of it), so
    // fewer, larger runs are faster (two runs of 392 cost about 10% more than one of 784).
    private const long DistanceBudget = 48L << 20;
    // Int8 on the CPU: the bank is a graph constant, packed once, so runs may be smaller; the int32 dot products
    // are written by the GEMM and read back by the candidate selection, and 8 Mi of them (32 MB) per run stay in
    // the cache in between (batch 8 at a 1% MTD bank: 138 ms against 162 ms with 48 Mi).
    private const long Int8DotsBudget = 8L << 20;
    public const int MinimumCandidates = 8;

    private readonly ExecutionDevice _device;
    private readonly RunOptions _runOptions = new();
    private readonly List<IDisposable> _resources = [];
    private readonly Dictionary<string, OrtValue> _deviceBank = [];
    private readonly float[]? _bankFloats;     // Float32, Int8: the rows as stored in the artifact
    private readonly Float16[]? _bankHalves;   // Float16: rows / _halfScale
    private readonly float[] _norms;           // ||m||^2 of the rows the distances are computed on
    private readonly float _int8Step;          // Int8: value of one int8 step of the bank
    private readonly float _queryLevels;       // Int8: largest quantised value of a query (255, or 127: see NeedsReducedQueryRange)
    private readonly bool _requireDevice;      // tests: refuse a graph that would run any node on the CPU beside CUDA
    private readonly float _halfScale = 1f;    // Float16: power of two divided out, so rows and norms fit half
    private readonly int _chunk;               // largest number of queries per run
    private readonly bool _managedInt8Selection; // Int8 on the CPU: dots from the graph, candidates picked here
    private readonly Dictionary<int, Run> _runs = [];
    private readonly Dictionary<InferenceSession, OrtIoBinding> _bindings = [];
    private InferenceSession? _nearest, _topK, _candidates;

    // Per-run buffers, allocated once for the largest chunk.
    private float[] _queries = [];             // the chunk's queries in search units (float16: divided by _halfScale)
    private byte[] _queryBytes = [];
    private Float16[] _queryHalves = [];
    private float[] _offsets = [];
    private float[] _partial = [];
    private long[] _index = [];
    private int[] _dots = [];                  // Int8 on the CPU: the chunk's q x m dot products
    private float[] _best = [];
    private int[] _bestIndex = [];
    private readonly long[] _k = new long[1];
    private readonly Lock _gate = new();

    public int Rows { get; }
    public int Dimensions { get; }
    public BankPrecision Precision { get; }

    public NearestNeighbourSearch(float[] bank, int rows, int dimensions, ExecutionDevice device, BankPrecision precision = BankPrecision.Float32)
        : this(bank, rows, dimensions, device, precision, new SearchTuning()) { }

    internal NearestNeighbourSearch(float[] bank, int rows, int dimensions, ExecutionDevice device, BankPrecision precision, SearchTuning tuning)
    {
        if (bank.Length != (long)rows * dimensions) throw new ArgumentException("bank size does not match rows x dimensions");
        if (rows < 1 || dimensions < 1) throw new ArgumentException("the bank is empty");
        Rows = rows;
        Dimensions = dimensions;
        _device = device;
        using (device.CreateSessionOptions()) { } // decides CPU or CUDA before anything is uploaded
        precision = BankPrecisions.Resolve(precision, device).Precision;
        Precision = precision;
        _managedInt8Selection = precision == BankPrecision.Int8 && !(tuning.Int8SelectionInGraph ?? device.Actual == DeviceKind.Cuda);
        // Graph selection (CUDA) feeds the queries as int8: ONNX Runtime's CUDA MatMulInteger takes int8 x int8
        // only (a uint8 input would put the node on the CPU, copying the bank back on every run). 7 bits then.
        _queryLevels = !_managedInt8Selection || (tuning.ReducedQueryRange ?? NeedsReducedQueryRange(device)) ? 127f : 255f;
        _requireDevice = tuning.RequireDeviceForEveryNode;
        _chunk = (int)Math.Clamp((_managedInt8Selection ? Int8DotsBudget : DistanceBudget) / rows, 16, 4096);
        _norms = new float[rows];
        switch (precision)
        {
            case BankPrecision.Float32:
                _bankFloats = bank;
                ComputeNorms(bank);
                Upload("bank", bank, [rows, dimensions]);
                Upload("bank_norms", _norms, [rows]);
                break;
            case BankPrecision.Int8:
                if (TensorPrimitives.Min(bank) < 0)
                    throw new ArgumentException("int8 search needs non-negative patch features (this bank has negative values); use float32 or float16");
                _bankFloats = bank;
                ComputeNorms(bank);
                float max = TensorPrimitives.Max(bank);
                _int8Step = max > 0 ? max / 127f : 1f;
                var transposed = new sbyte[bank.Length]; // MatMulInteger multiplies by a d x m matrix
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < dimensions; j++)
                        transposed[(long)j * rows + i] = (sbyte)MathF.Round(bank[(long)i * dimensions + j] / _int8Step);
                _offsets = new float[rows];
                // On the CPU the bank is a constant of the graph: ONNX Runtime packs it for its GEMM once, here,
                // rather than on every run (a quarter of the int8 GEMM's time on a frame).
                if (_managedInt8Selection && transposed.Length <= tuning.ConstantBankLimit)
                    Session(ref _candidates, () => KnnGraphs.Int8Dots(OnnxGraphs.OnnxBuilder.Int8Tensor("bank", [dimensions, rows], transposed)), withK: false);
                else
                    Upload("bank", transposed, [dimensions, rows]);
                break;
            case BankPrecision.Float16:
                float largest = Math.Abs(TensorPrimitives.MaxMagnitude(bank));
                _halfScale = largest > 0 ? MathF.Pow(2, MathF.Ceiling(MathF.Log2(largest))) : 1f;
                var scaled = new float[Math.Min(bank.Length, 1 << 20)];
                _bankHalves = new Float16[bank.Length];
                for (long start = 0; start < bank.Length; start += scaled.Length)
                {
                    int n = (int)Math.Min(scaled.Length, bank.Length - start);
                    TensorPrimitives.Multiply(bank.AsSpan((int)start, n), 1f / _halfScale, scaled.AsSpan(0, n));
                    TensorPrimitives.ConvertToHalf(scaled.AsSpan(0, n), Halves(_bankHalves.AsSpan((int)start, n)));
                }
                var row = new float[dimensions];
                for (int i = 0; i < rows; i++) _norms[i] = TensorPrimitives.Dot(WidenRow(i, row), row);
                var halfNorms = new Float16[rows];
                TensorPrimitives.ConvertToHalf(_norms, Halves(halfNorms));
                Upload("bank", _bankHalves, [rows, dimensions]);
                Upload("bank_norms", halfNorms, [rows]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(precision));
        }
    }

    /// <summary>
    /// x86 CPUs without VNNI multiply uint8 by int8 with vpmaddubsw, which adds pairs of products into a
    /// saturating int16: 2 x 255 x 127 overflows it, 2 x 127 x 127 does not. There the queries use 7 bits (what
    /// ONNX Runtime's own quantiser calls reduce_range); the candidates are re-ranked exactly either way. VNNI
    /// (vpdpbusd) and ARM's dot products accumulate in int32, and so does CUDA.
    /// </summary>
    private static bool NeedsReducedQueryRange(ExecutionDevice device) =>
        device.Actual == DeviceKind.Cpu && X86Base.IsSupported && !AvxVnni.IsSupported && !Avx10v1.IsSupported;

    public static BankPrecision ParsePrecision(string text) => text.ToLowerInvariant() switch
    {
        "auto" => BankPrecision.Auto,
        "float32" or "fp32" => BankPrecision.Float32,
        "float16" or "fp16" or "half" => BankPrecision.Float16,
        "int8" => BankPrecision.Int8,
        _ => throw new ArgumentException($"unknown bank precision '{text}' (expected auto, float32, float16 or int8)"),
    };

    /// <summary>
    /// For each of <paramref name="count"/> query rows, the <paramref name="k"/> nearest bank rows, nearest first:
    /// Euclidean distances (not squared) and bank indices, both count x k.
    /// </summary>
    public void Search(ReadOnlySpan<float> queries, int count, int k, Span<float> distances, Span<int> indices)
    {
        if (k < 1 || k > Rows) throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..{Rows}");
        if (queries.Length < (long)count * Dimensions || distances.Length < (long)count * k || indices.Length < (long)count * k)
            throw new ArgumentException("query, distance or index span too short");
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == 0) return;
        lock (_gate) SearchLocked(queries, count, k, distances, indices);
    }

    private void SearchLocked(ReadOnlySpan<float> queries, int count, int k, Span<float> distances, Span<int> indices)
    {
        int candidates = Precision == BankPrecision.Float32 ? k : Math.Min(Rows, Math.Max(MinimumCandidates, 2 * k));
        // Equal chunks: a short last chunk (784 = 624 + 160 at a 10% MTD bank) runs the GEMM far below its speed.
        int chunks = (count + _chunk - 1) / _chunk;
        int chunk = Math.Max(1, (count + chunks - 1) / chunks);
        for (int start = 0; start < count; start += chunk)
        {
            int q = Math.Min(chunk, count - start);
            var rows = queries.Slice(start * Dimensions, q * Dimensions);
            RunGraph(rows, q, k, candidates);
            var d = distances.Slice(start * k, q * k);
            var ix = indices.Slice(start * k, q * k);
            if (Precision == BankPrecision.Float32)
                for (int r = 0; r < q; r++)
                {
                    var query = rows.Slice(r * Dimensions, Dimensions);
                    float qn = TensorPrimitives.Dot(query, query);
                    for (int j = 0; j < k; j++)
                    {
                        d[r * k + j] = SquaredToDistance(_partial[r * k + j] + qn);
                        ix[r * k + j] = (int)_index[r * k + j];
                    }
                }
            else
                Rerank(q, k, candidates, d, ix);
        }
    }

    /// <summary>Distance between a query row and one bank row, computed the way the search reports it.</summary>
    public float Distance(ReadOnlySpan<float> query, int bankIndex)
    {
        if (Precision != BankPrecision.Float16)
            return SquaredToDistance(DistanceSquared(query, TensorPrimitives.Dot(query, query), bankIndex, default));
        Span<float> scaled = Dimensions <= 4096 ? stackalloc float[Dimensions] : new float[Dimensions];
        Span<float> row = Dimensions <= 4096 ? stackalloc float[Dimensions] : new float[Dimensions];
        TensorPrimitives.Multiply(query, 1f / _halfScale, scaled);
        return _halfScale * SquaredToDistance(DistanceSquared(scaled, TensorPrimitives.Dot(scaled, scaled), bankIndex, row));
    }

    private void RunGraph(ReadOnlySpan<float> rows, int q, int k, int candidates)
    {
        EnsureBuffers();
        int width = candidates;
        var run = RunFor(q, width);
        switch (Precision)
        {
            case BankPrecision.Float32:
                rows.CopyTo(_queries);
                break;
            case BankPrecision.Int8:
            {
                rows.CopyTo(_queries);
                float max = TensorPrimitives.Max(rows);
                float step = max > 0 && float.IsFinite(max) ? max / _queryLevels : 1f;
                Int8Kernels.Quantize(rows, 1f / step, _queryBytes);
                // dot_int - ||m||^2 / (2 s_q s_m) is the largest for the nearest m.
                TensorPrimitives.Multiply(_norms, 1f / (2f * step * _int8Step), _offsets);
                break;
            }
            case BankPrecision.Float16:
                TensorPrimitives.Multiply(rows, 1f / _halfScale, _queries.AsSpan(0, rows.Length));
                TensorPrimitives.ConvertToHalf(_queries.AsSpan(0, rows.Length), Halves(_queryHalves.AsSpan(0, rows.Length)));
                break;
        }
        _k[0] = width;
        if (_managedInt8Selection)
        {
            var (dotsSession, dotsBinding) = Session(ref _candidates, () => KnnGraphs.Int8Dots(), withK: false);
            dotsBinding.BindInput("query", run.Query);
            dotsBinding.BindOutput("dots", run.Dots!);
            dotsSession.RunWithBinding(_runOptions, dotsBinding);
            SelectInt8Candidates(q, width);
            return;
        }
        var (session, binding) = Precision == BankPrecision.Float32
            ? (k == 1 ? Session(ref _nearest, KnnGraphs.Nearest, withK: false) : Session(ref _topK, KnnGraphs.TopK, withK: true))
            : Session(ref _candidates, Precision == BankPrecision.Int8 ? KnnGraphs.Int8Candidates : KnnGraphs.Float16Candidates, withK: true);
        binding.BindInput("query", run.Query);
        binding.BindOutput("index", run.Index);
        if (Precision == BankPrecision.Float32) binding.BindOutput("partial", run.Partial!);
        session.RunWithBinding(_runOptions, binding);
    }

    /// <summary>Per query row, the <paramref name="width"/> bank rows with the largest dot - offset.</summary>
    private void SelectInt8Candidates(int q, int width)
    {
        var dots = _dots.AsSpan(0, q * Rows);
        var index = _index.AsSpan(0, q * width);
        // The pass reads the whole q x m matrix (17 MB for a frame against a 1% MTD bank) once: on two threads
        // each core streams half of it.
        int threads = (long)q * Rows < 1_000_000 ? 1 : Math.Min(_device.Threads, q);
        if (threads == 1) Int8Kernels.SelectLargest(dots, _offsets, q, width, index);
        else
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int from = q * t / threads, to = q * (t + 1) / threads;
                Int8Kernels.SelectLargest(_dots.AsSpan(from * Rows, (to - from) * Rows), _offsets, to - from, width, _index.AsSpan(from * width, (to - from) * width));
            });
    }

    /// <summary>Exact distances of each query's candidates; the k nearest, nearest first.</summary>
    private void Rerank(int q, int k, int candidates, Span<float> distances, Span<int> indices)
    {
        if (_best.Length < q * k) (_best, _bestIndex) = (new float[q * k], new int[q * k]);
        float[] best = _best;
        int[] bestIndex = _bestIndex;
        void RerankRows(int from, int to)
        {
            Span<float> row = stackalloc float[Precision == BankPrecision.Float16 ? Dimensions : 0];
            for (int r = from; r < to; r++)
            {
                var query = _queries.AsSpan(r * Dimensions, Dimensions);
                float qn = TensorPrimitives.Dot(query, query);
                var d = best.AsSpan(r * k, k);
                var ix = bestIndex.AsSpan(r * k, k);
                d.Fill(float.PositiveInfinity);
                ix.Fill(-1);
                for (int c = 0; c < candidates; c++)
                {
                    int m = (int)_index[r * candidates + c];
                    float d2 = DistanceSquared(query, qn, m, row);
                    if (d2 > d[k - 1] || (d2 == d[k - 1] && m > ix[k - 1])) continue;
                    int at = k - 1; // insertion: by distance, then by index, as TopK orders ties
                    while (at > 0 && (d[at - 1] > d2 || (d[at - 1] == d2 && ix[at - 1] > m))) { d[at] = d[at - 1]; ix[at] = ix[at - 1]; at--; }
                    d[at] = d2;
                    ix[at] = m;
                }
            }
        }
        // A frame's worth (784 x 8 candidates x 1024 dims) takes about 2 ms on one core; waking pool threads for
        // it sometimes cost more than that.
        if ((long)q * candidates * Dimensions < 16_000_000) RerankRows(0, q);
        else
            Parallel.For(0, _device.Threads, new ParallelOptions { MaxDegreeOfParallelism = _device.Threads },
                t => RerankRows(q * t / _device.Threads, q * (t + 1) / _device.Threads));
        float unit = Precision == BankPrecision.Float16 ? _halfScale : 1f;
        for (int i = 0; i < q * k; i++)
        {
            distances[i] = unit * SquaredToDistance(best[i]);
            indices[i] = bestIndex[i];
        }
    }

    /// <summary>||q||^2 - 2 q.m + ||m||^2 in the search's units (the same form as the GEMM).</summary>
    private float DistanceSquared(ReadOnlySpan<float> query, float queryNorm, int m, Span<float> row)
    {
        var bankRow = Precision == BankPrecision.Float16 ? WidenRow(m, row) : _bankFloats.AsSpan(m * Dimensions, Dimensions);
        return queryNorm - 2f * TensorPrimitives.Dot(query, bankRow) + _norms[m];
    }

    /// <summary>The GEMM form can go slightly below zero by rounding: clamped before the root.</summary>
    private static float SquaredToDistance(float d2) => MathF.Sqrt(Math.Max(0f, d2));

    private Span<float> WidenRow(int m, Span<float> row)
    {
        TensorPrimitives.ConvertToSingle(Halves(_bankHalves.AsSpan(m * Dimensions, Dimensions)), row);
        return row;
    }

    private static Span<Half> Halves(Span<Float16> values) => MemoryMarshal.Cast<Float16, Half>(values);

    private void ComputeNorms(float[] bank)
    {
        for (int i = 0; i < Rows; i++)
        {
            var row = bank.AsSpan(i * Dimensions, Dimensions);
            _norms[i] = TensorPrimitives.Dot(row, row);
        }
    }

    /// <summary>Makes the per-run buffers (for the largest chunk and candidate count) on first use.</summary>
    private void EnsureBuffers()
    {
        if (_queries.Length > 0) return;
        int values = _chunk * Dimensions, width = Math.Min(Rows, Math.Max(MinimumCandidates, 2 * Math.Min(Rows, 64)));
        _queries = GC.AllocateArray<float>(values, pinned: true);
        if (Precision == BankPrecision.Int8)
        {
            _queryBytes = GC.AllocateArray<byte>(values, pinned: true);
        }
        if (Precision == BankPrecision.Float16) _queryHalves = GC.AllocateArray<Float16>(values, pinned: true);
        _partial = GC.AllocateArray<float>(_chunk * width, pinned: true);
        _index = GC.AllocateArray<long>(_chunk * width, pinned: true);
    }

    /// <summary>The int32 dot-product buffer for q queries (grown to the largest chunk seen; at most the distance budget).</summary>
    private void EnsureDots(int q)
    {
        if (_dots.Length >= (long)q * Rows) return;
        foreach (var old in _runs.Values) old.Dispose(); // tensors over the old buffer
        _runs.Clear();
        _dots = GC.AllocateArray<int>(q * Rows, pinned: true);
    }

    /// <summary>Tensors over the per-run buffers for one query count and width, made once and reused.</summary>
    private Run RunFor(int q, int width)
    {
        if (width * q > _index.Length)
        {
            // Wider than the buffers were made for (k > 64 on a large chunk): grow them, and drop tensors over the old ones.
            foreach (var old in _runs.Values) old.Dispose();
            _runs.Clear();
            _partial = GC.AllocateArray<float>(q * width, pinned: true);
            _index = GC.AllocateArray<long>(q * width, pinned: true);
        }
        if (_managedInt8Selection) EnsureDots(q);
        int key = q * 65536 + width;
        if (_runs.TryGetValue(key, out var run)) return run;
        long[] shape = [q, Dimensions];
        int n = q * Dimensions;
        OrtValue query = Precision switch
        {
            BankPrecision.Int8 when _managedInt8Selection => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _queryBytes.AsMemory(0, n), shape),
            // The same bytes (0..127) read as int8; the array is pinned, so its address stays put.
            BankPrecision.Int8 => OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int8, shape,
                Marshal.UnsafeAddrOfPinnedArrayElement(_queryBytes, 0), n),
            BankPrecision.Float16 => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _queryHalves.AsMemory(0, n), shape),
            _ => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _queries.AsMemory(0, n), shape),
        };
        var index = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _index.AsMemory(0, q * width), [q, width]);
        var partial = Precision == BankPrecision.Float32
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _partial.AsMemory(0, q * width), [q, width])
            : null;
        var dots = _managedInt8Selection ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _dots.AsMemory(0, q * Rows), [q, Rows]) : null;
        run = new Run(query, index, partial, dots);
        _runs[key] = run;
        return run;
    }

    private sealed record Run(OrtValue Query, OrtValue Index, OrtValue? Partial, OrtValue? Dots) : IDisposable
    {
        public void Dispose()
        {
            Query.Dispose();
            Index.Dispose();
            Partial?.Dispose();
            Dots?.Dispose();
        }
    }

    /// <summary>A graph's session (made on first use) with the device-resident bank bound to it once.</summary>
    private (InferenceSession, OrtIoBinding) Session(ref InferenceSession? slot, Func<ModelProto> graph, bool withK)
    {
        if (slot is not null) return (slot, _bindings[slot]);
        using var options = _device.CreateSessionOptions();
        if (_requireDevice && !_device.RequireDeviceForEveryNode && _device.Actual == DeviceKind.Cuda)
            options.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1");
        slot = new InferenceSession(graph().ToByteArray(), options);
        var binding = slot.CreateIoBinding();
        var inputs = slot.InputNames.ToHashSet();
        foreach (var (name, value) in _deviceBank) binding.BindInput(name, value);
        if (withK) binding.BindInput("k", Track(OrtValue.CreateTensorValueFromMemory(_k, [1])));
        if (inputs.Contains("offsets")) binding.BindInput("offsets", Track(OrtValue.CreateTensorValueFromMemory(_offsets, [Rows])));
        _bindings[slot] = binding;
        return (slot, binding);
    }

    /// <summary>
    /// Puts a bank tensor where the search runs: on the CPU the tensor over the (pinned) array itself; on CUDA
    /// a copy in device memory, made once by an Identity graph whose output is bound to the device.
    /// </summary>
    private void Upload<T>(string name, T[] data, long[] shape) where T : unmanaged
    {
        var host = Track(OrtValue.CreateTensorValueFromMemory(data, shape)); // pins the array while it lives
        if (_device.Actual != DeviceKind.Cuda)
        {
            _deviceBank[name] = host;
            return;
        }
        using var options = _device.CreateSessionOptions();
        var upload = Track(new InferenceSession(KnnGraphs.Upload(ElementType<T>(), shape.Length).ToByteArray(), options));
        using var binding = upload.CreateIoBinding();
        using var cuda = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
        binding.BindInput("host", host);
        binding.BindOutputToDevice("device", cuda);
        upload.RunWithBinding(_runOptions, binding);
        binding.SynchronizeBoundOutputs();
        var outputs = Track(binding.GetOutputValues());
        _deviceBank[name] = outputs[0];
        _resources.Remove(host);
        host.Dispose(); // the device copy is all the search needs
    }

    private static DataType ElementType<T>() =>
        typeof(T) == typeof(float) ? DataType.Float
        : typeof(T) == typeof(Float16) ? DataType.Float16
        : typeof(T) == typeof(sbyte) ? DataType.Int8
        : throw new NotSupportedException(typeof(T).Name);

    private TDisposable Track<TDisposable>(TDisposable value) where TDisposable : IDisposable
    {
        _resources.Add(value);
        return value;
    }

    public void Dispose()
    {
        foreach (var binding in _bindings.Values) binding.Dispose();
        foreach (var run in _runs.Values) run.Dispose();
        _nearest?.Dispose();
        _topK?.Dispose();
        _candidates?.Dispose();
        for (int i = _resources.Count - 1; i >= 0; i--) _resources[i].Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>Choices the search makes by itself, made explicit for tests.</summary>
/// <param name="Int8SelectionInGraph">Pick int8 candidates in the graph (as on CUDA) rather than in managed code.</param>
/// <param name="ConstantBankLimit">Int8 on the CPU: the largest bank (bytes) made a constant of the graph; a
/// larger one is bound as an input (an ONNX model, the constant included, must stay below 2 GB).</param>
/// <param name="ReducedQueryRange">Int8 on the CPU: 7-bit queries (x86 without VNNI) rather than 8-bit.</param>
/// <param name="RequireDeviceForEveryNode">On CUDA: fail to load a graph that ONNX Runtime would run partly on the
/// CPU (a node without a CUDA kernel), instead of running it there with copies in between.</param>
internal sealed record SearchTuning(bool? Int8SelectionInGraph = null, long ConstantBankLimit = 1L << 30, bool? ReducedQueryRange = null,
    bool RequireDeviceForEveryNode = false);
