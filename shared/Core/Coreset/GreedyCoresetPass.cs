using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

// Over 300 lines on purpose: the one hot loop of the build (every greedy step reads every point), with its AVX-VNNI,
// AVX2 and scalar forms side by side over the same pinned block layout, so that the three can be read against
// each other and stay exact integer twins. GreedyCoreset holds the entry points and the algorithm's description.

/// <summary>
/// One run of the exact greedy k-center selection (see <see cref="GreedyCoreset"/>): the int8 points split into
/// blocks of 32 dimensions, per point the squared distance to the nearest centre and that centre's step. A pass applies
/// a batch of centres, in their step order, while each group of points is in the cache (<see cref="NextCentres"/>), and
/// leaves the points farthest from the chosen set (<see cref="FarthestCandidates"/>).
/// </summary>
internal sealed unsafe class GreedyCoresetPass
{
    private const int BlockWidth = 32; // int8 dimensions per block: 32 bytes, two int16 vectors after widening
    private readonly QuantizedRows _rows;
    /// <summary>Centres one pass applies at most: each costs a dot product per point and block read, the pass's memory traffic
    /// is paid once (docs/design.md, "Coreset selection in batches").</summary>
    public const int MaxBatch = 32;
    /// <summary>Farthest points a pass keeps for planning the next batch.</summary>
    private const int PlanningCandidates = 256;
    private readonly int _n, _size, _blockCount, _stride;
    private readonly bool _prune;
    private readonly IReadOnlyList<int>? _pointRows; // the row of each point in _rows; null: point p is row p
    private readonly sbyte[][] _blocks;  // block b holds dimensions 32b..32b+31 of every point, point-major (pinned)
    private readonly int[] _minDist;     // squared distance to the nearest centre (pinned)
    private readonly int[] _nearest;     // the step of that centre (pinned)
    private int _step;                   // the step of the batch's first centre
    private int _centres;                // centres in the batch
    private readonly short[] _centre;    // the batch's centres, widened and padded, MaxBatch x stride (pinned)
    // The AVX-VNNI form, d_b = K_b(p) + |c_b|^2 - 2 sum (c+128) p over block b, with K_b(p) = |p_b|^2 + 256 sum p_b:
    // vpdpbusd multiplies unsigned by signed bytes, so the centre goes in shifted by 128. All exact integers.
    private readonly bool _vnni;
    private readonly int[][] _blockK = [];  // K_b(p) per block (pinned)
    private readonly int[] _pointK = [];    // K(p) = sum_b K_b(p) (pinned)
    private readonly byte[] _centreShifted; // c + 128, MaxBatch x stride (pinned)
    private readonly int[] _centreBlockNorm;  // MaxBatch x blocks
    private readonly int[] _centreNorm;       // MaxBatch
    private readonly int _chunk, _chunks;
    private readonly FarthestCandidates[] _chunkCandidates;
    private readonly long[] _chunkBlocks;
    private readonly int _candidateCapacity;
    private readonly int[] _candidateValues, _candidateIndices;
    private int _candidateCount;

    public int[] MinDistances => _minDist;

    /// <param name="points">the points' indices in <paramref name="rows"/> when the pass runs on some of them (point p is row
    /// points[p]); null: all rows. The pass copies what it reads into its own blocks, so a subset costs no copy of its own.</param>
    public GreedyCoresetPass(QuantizedRows rows, int size, bool prune, bool allowVnni = true, int[]? initialMinDist = null,
        IReadOnlyList<int>? points = null)
    {
        _vnni = allowVnni && AvxVnni.IsSupported;
        _n = points?.Count ?? rows.Count;
        if (_n <= 0) throw new ArgumentException("no points to select from");
        _rows = rows;
        _pointRows = points;
        _size = Math.Clamp(size, 1, _n);
        _prune = prune;
        _blockCount = (rows.Dimensions + BlockWidth - 1) / BlockWidth;
        _stride = _blockCount * BlockWidth;
        _blocks = new sbyte[_blockCount][];
        for (int b = 0; b < _blockCount; b++)
        {
            var block = _blocks[b] = GC.AllocateArray<sbyte>(_n * BlockWidth, pinned: true); // zero padding
            int width = Math.Min(BlockWidth, rows.Dimensions - b * BlockWidth);
            for (int p = 0; p < _n; p++)
                rows.Row(points is null ? p : points[p]).Slice(b * BlockWidth, width).CopyTo(block.AsSpan(p * BlockWidth, width));
        }
        _minDist = GC.AllocateUninitializedArray<int>(_n, pinned: true);
        if (initialMinDist is null) Array.Fill(_minDist, int.MaxValue);
        else initialMinDist.AsSpan(0, _n).CopyTo(_minDist);
        _nearest = GC.AllocateArray<int>(_n, pinned: true);
        _centre = GC.AllocateArray<short>(MaxBatch * _stride, pinned: true);
        _centreShifted = GC.AllocateArray<byte>(MaxBatch * _stride, pinned: true);
        _centreBlockNorm = new int[MaxBatch * _blockCount];
        _centreNorm = new int[MaxBatch];
        if (_vnni)
        {
            _blockK = new int[_blockCount][];
            _pointK = GC.AllocateArray<int>(_n, pinned: true);
            for (int b = 0; b < _blockCount; b++)
            {
                var k = _blockK[b] = GC.AllocateArray<int>(_n, pinned: true);
                for (int p = 0; p < _n; p++)
                {
                    int norm = 0, sum = 0;
                    foreach (sbyte v in _blocks[b].AsSpan(p * BlockWidth, BlockWidth)) { norm += v * v; sum += v; }
                    k[p] = norm + 256 * sum;
                    _pointK[p] += k[p];
                }
            }
        }
        // Several chunks per worker balance the uneven pruned work; multiples of 8 keep the SIMD blocks aligned.
        int workers = Math.Max(1, Environment.ProcessorCount);
        _chunk = Math.Max(4096, ((_n + workers * 8 - 1) / (workers * 8) + 7) & ~7);
        _chunks = (_n + _chunk - 1) / _chunk;
        _candidateCapacity = Math.Min(_n, PlanningCandidates);
        _chunkCandidates = new FarthestCandidates[_chunks];
        for (int k = 0; k < _chunks; k++) _chunkCandidates[k] = new FarthestCandidates(_candidateCapacity);
        _chunkBlocks = new long[_chunks];
        (_candidateValues, _candidateIndices) = (new int[_candidateCapacity], new int[_candidateCapacity]);
    }

    public CoresetResult Execute(int seed, IProgress<StageProgress>? progress, CancellationToken cancel)
    {
        var indices = new int[_size];
        var trace = new List<(int, float)>();
        long blocks = 0;
        int progressEvery = Math.Max(1, _size / 500), farthest = 0, passes = 0;
        Span<int> batch = stackalloc int[MaxBatch], reached = stackalloc int[MaxBatch];
        batch[0] = GreedyCoreset.StartIndex(_n, seed);
        int count = 1;
        for (int step = 0; step < _size;)
        {
            cancel.ThrowIfCancellationRequested();
            SetCentres(_rows, batch[..count], _pointRows);
            (farthest, long read) = Step(step, pruned: _prune && step > 0);
            blocks += read;
            passes++;
            for (int j = 0; j < count; j++, step++)
            {
                indices[step] = batch[j];
                // The farthest distance after this step: the next centre's own, or the pass's for the batch's last.
                int after = j + 1 < count ? reached[j + 1] : farthest;
                if (step % progressEvery == 0 || step == _size - 1)
                {
                    trace.Add((step + 1, MathF.Sqrt(after) * _rows.Scale));
                    progress?.Report(new StageProgress("coreset", step + 1, _size, $"radius {MathF.Sqrt(after) * _rows.Scale:G4}"));
                }
            }
            // The plain run is the reference: one centre a pass. The pruned run plans its next batch from the pass's candidates.
            int most = Math.Min(_prune ? MaxBatch : 1, _size - step);
            count = most == 0 ? 0 : NextCentres.Plan(_candidateValues, _candidateIndices, _candidateCount, _candidateCount == _n, SquaredDistance,
                most, -1, batch, reached);
        }
        return new CoresetResult(indices, MathF.Sqrt(farthest) * _rows.Scale, blocks, (long)_size * _n * _blockCount, _minDist, _nearest)
        {
            RadiusTrace = trace,
            Passes = passes,
        };
    }

    /// <summary>
    /// Continues the selection from the pass's current distances: adds the farthest point while it is farther than
    /// <paramref name="radiusSquared"/>, at most <paramref name="maxAdded"/> points, batch by batch; returns them (point numbers of
    /// this pass) in selection order. The steps recorded as nearest (<see cref="CoresetResult.Nearest"/>) count from 0 at the first.
    /// </summary>
    public List<int> Extend(int radiusSquared, int maxAdded, CancellationToken cancel)
    {
        var candidates = new FarthestCandidates(_candidateCapacity);
        for (int p = 0; p < _n; p++) candidates.Offer(_minDist[p], p);
        _candidateCount = FarthestCandidates.Merge([candidates], _candidateCapacity, _candidateValues, _candidateIndices);
        var added = new List<int>();
        Span<int> batch = stackalloc int[MaxBatch], reached = stackalloc int[MaxBatch];
        while (added.Count < maxAdded)
        {
            cancel.ThrowIfCancellationRequested();
            int count = NextCentres.Plan(_candidateValues, _candidateIndices, _candidateCount, _candidateCount == _n, SquaredDistance,
                Math.Min(MaxBatch, maxAdded - added.Count), radiusSquared, batch, reached);
            if (count == 0) break;
            SetCentres(_rows, batch[..count], _pointRows);
            Step(added.Count, pruned: true);
            foreach (int p in batch[..count]) added.Add(p);
        }
        return added;
    }

    /// <summary>The exact squared distance between points p and q of this pass (all blocks).</summary>
    private int SquaredDistance(int p, int q)
    {
        int sum = 0;
        for (int b = 0; b < _blockCount; b++)
        {
            var x = _blocks[b].AsSpan(p * BlockWidth, BlockWidth);
            var y = _blocks[b].AsSpan(q * BlockWidth, BlockWidth);
            for (int k = 0; k < BlockWidth; k++) sum += (x[k] - y[k]) * (x[k] - y[k]);
        }
        return sum;
    }

    /// <summary>One pass with the current batch of centres: updates every point's minimum; returns the farthest point's squared
    /// distance and the blocks read, and keeps the farthest points for the next batch.</summary>
    public (int Farthest, long Blocks) Step(int step, bool pruned)
    {
        _step = step;
        if (_chunks == 1) Pass(0, pruned);
        else Parallel.For(0, _chunks, k => Pass(k, pruned));
        long blocks = 0;
        for (int k = 0; k < _chunks; k++) blocks += _chunkBlocks[k];
        _candidateCount = FarthestCandidates.Merge(_chunkCandidates, _candidateCapacity, _candidateValues, _candidateIndices);
        return (_candidateValues[0], blocks);
    }

    /// <summary>The batch of centres for the next pass: rows <paramref name="centres"/> of <paramref name="source"/> (through
    /// <paramref name="rowOf"/> when given: centres are then point numbers of this pass), in step order.</summary>
    public void SetCentres(QuantizedRows source, ReadOnlySpan<int> centres, IReadOnlyList<int>? rowOf = null)
    {
        if (centres.Length is 0 or > MaxBatch) throw new ArgumentOutOfRangeException(nameof(centres), $"1..{MaxBatch} centres a pass");
        _centres = centres.Length;
        for (int j = 0; j < _centres; j++)
        {
            int row = rowOf is null ? centres[j] : rowOf[centres[j]];
            var centre = _centre.AsSpan(j * _stride, _stride);
            source.Widen(row, centre);
            _centreNorm[j] = 0;
            for (int b = 0; b < _blockCount; b++)
            {
                int norm = 0;
                for (int k = b * BlockWidth; k < (b + 1) * BlockWidth; k++)
                {
                    _centreShifted[j * _stride + k] = (byte)(centre[k] + 128);
                    norm += centre[k] * centre[k];
                }
                _centreBlockNorm[j * _blockCount + b] = norm;
                _centreNorm[j] += norm;
            }
        }
    }

    private void Pass(int k, bool pruned)
    {
        int lo = k * _chunk, hi = Math.Min(_n, lo + _chunk);
        int simdEnd = Avx2.IsSupported ? lo + (hi - lo) / 8 * 8 : lo;
        var candidates = _chunkCandidates[k];
        candidates.Clear();
        long blocks = 0;
        if (simdEnd > lo)
        {
            if (pruned || _centres > 1) blocks = PrunedBlocks(lo, simdEnd, candidates);
            else
            {
                PlainBlocks(lo, simdEnd, candidates);
                blocks = (long)(simdEnd - lo) * _blockCount;
            }
        }
        for (int p = simdEnd; p < hi; p++) // the tail, or everything without AVX2
        {
            int m = _minDist[p];
            for (int j = 0; j < _centres; j++)
            {
                var (d, read) = Distance(p, j, pruned ? m : int.MaxValue);
                blocks += read;
                if (d < m) { _minDist[p] = m = d; _nearest[p] = _step + j; }
            }
            candidates.Offer(m, p);
        }
        _chunkBlocks[k] = blocks;
    }

    /// <summary>Plain: full distances of eight points at a time to the one centre, accumulated over all blocks, reduced once.</summary>
    private void PlainBlocks(int lo, int hi, FarthestCandidates candidates)
    {
        int* minDist = (int*)Unsafe.AsPointer(ref _minDist[0]);
        int* nearest = (int*)Unsafe.AsPointer(ref _nearest[0]);
        var step = Vector256.Create(_step);
        for (int p = lo; p < hi; p += 8)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int b = 0; b < _blockCount; b++)
            {
                sbyte* x = (sbyte*)Unsafe.AsPointer(ref _blocks[b][0]) + (long)p * BlockWidth;
                if (_vnni)
                {
                    var c = Vector256.Load((byte*)Unsafe.AsPointer(ref _centreShifted[0]) + b * BlockWidth);
                    a0 = AvxVnni.MultiplyWideningAndAdd(a0, c, Vector256.Load(x));
                    a1 = AvxVnni.MultiplyWideningAndAdd(a1, c, Vector256.Load(x + 32));
                    a2 = AvxVnni.MultiplyWideningAndAdd(a2, c, Vector256.Load(x + 64));
                    a3 = AvxVnni.MultiplyWideningAndAdd(a3, c, Vector256.Load(x + 96));
                    a4 = AvxVnni.MultiplyWideningAndAdd(a4, c, Vector256.Load(x + 128));
                    a5 = AvxVnni.MultiplyWideningAndAdd(a5, c, Vector256.Load(x + 160));
                    a6 = AvxVnni.MultiplyWideningAndAdd(a6, c, Vector256.Load(x + 192));
                    a7 = AvxVnni.MultiplyWideningAndAdd(a7, c, Vector256.Load(x + 224));
                }
                else
                {
                    short* centre = (short*)Unsafe.AsPointer(ref _centre[0]) + b * BlockWidth;
                    var c0 = Vector256.Load(centre);
                    var c1 = Vector256.Load(centre + 16);
                    a0 += Squares(x, c0, c1);
                    a1 += Squares(x + 32, c0, c1);
                    a2 += Squares(x + 64, c0, c1);
                    a3 += Squares(x + 96, c0, c1);
                    a4 += Squares(x + 128, c0, c1);
                    a5 += Squares(x + 160, c0, c1);
                    a6 += Squares(x + 192, c0, c1);
                    a7 += Squares(x + 224, c0, c1);
                }
            }
            var d = Reduce(a0, a1, a2, a3, a4, a5, a6, a7);
            if (_vnni) d = Vector256.Load((int*)Unsafe.AsPointer(ref _pointK[0]) + p) + Vector256.Create(_centreNorm[0]) - (d << 1);
            var old = Vector256.Load(minDist + p);
            var closer = Vector256.LessThan(d, old);
            var m = Vector256.Min(d, old);
            Vector256.Store(m, minDist + p);
            Vector256.Store(Vector256.ConditionalSelect(closer, step, Vector256.Load(nearest + p)), nearest + p);
            candidates.Offer(m, p);
        }
    }

    /// <summary>Squared distances of eight points to the batch's centre j over block b (exact, either instruction set).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<int> BlockDistances(int p, int b, int j)
    {
        sbyte* x = (sbyte*)Unsafe.AsPointer(ref _blocks[b][0]) + (long)p * BlockWidth;
        int at = j * _stride + b * BlockWidth;
        if (_vnni)
        {
            var c = Vector256.Load((byte*)Unsafe.AsPointer(ref _centreShifted[0]) + at);
            var dot = Reduce(Dot(c, x), Dot(c, x + 32), Dot(c, x + 64), Dot(c, x + 96),
                             Dot(c, x + 128), Dot(c, x + 160), Dot(c, x + 192), Dot(c, x + 224));
            return Vector256.Load((int*)Unsafe.AsPointer(ref _blockK[b][0]) + p) + Vector256.Create(_centreBlockNorm[j * _blockCount + b])
                - (dot << 1);
        }
        short* centre = (short*)Unsafe.AsPointer(ref _centre[0]) + at;
        var c0 = Vector256.Load(centre);
        var c1 = Vector256.Load(centre + 16);
        return Reduce(Squares(x, c0, c1), Squares(x + 32, c0, c1), Squares(x + 64, c0, c1), Squares(x + 96, c0, c1),
                      Squares(x + 128, c0, c1), Squares(x + 160, c0, c1), Squares(x + 192, c0, c1), Squares(x + 224, c0, c1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<byte> centreShifted, sbyte* x) =>
        AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, centreShifted, Vector256.Load(x));

    /// <summary>
    /// Pruned: eight points at a time, the batch's centres in step order, each block by block while any of the eight can still
    /// come closer than its current distance; most are settled by the first block, and the eight points' blocks stay in the
    /// cache from one centre to the next. Returns the blocks read.
    /// </summary>
    private long PrunedBlocks(int lo, int hi, FarthestCandidates candidates)
    {
        int* minDist = (int*)Unsafe.AsPointer(ref _minDist[0]);
        int* nearest = (int*)Unsafe.AsPointer(ref _nearest[0]);
        long blocksRead = 0;
        for (int p = lo; p < hi; p += 8)
        {
            var m = Vector256.Load(minDist + p);
            var changed = Vector256<int>.Zero;
            var steps = Vector256<int>.Zero;
            for (int j = 0; j < _centres; j++)
            {
                var d = Vector256<int>.Zero;
                var open = Vector256<int>.AllBitsSet;
                for (int b = 0; b < _blockCount; b++)
                {
                    d += BlockDistances(p, b, j);
                    blocksRead += 8;
                    open = Vector256.LessThan(d, m);
                    if (open == Vector256<int>.Zero) break;
                }
                if (open != Vector256<int>.Zero) // all blocks read: d is the full distance, open the lanes it beats
                {
                    m = Vector256.Min(d, m);
                    steps = Vector256.ConditionalSelect(open, Vector256.Create(_step + j), steps);
                    changed |= open;
                }
            }
            if (changed != Vector256<int>.Zero)
            {
                Vector256.Store(m, minDist + p);
                Vector256.Store(Vector256.ConditionalSelect(changed, steps, Vector256.Load(nearest + p)), nearest + p);
            }
            candidates.Offer(m, p);
        }
        return blocksRead;
    }

    /// <summary>
    /// The squared distance of point p to the batch's centre j, one point at a time, stopping once it reaches
    /// <paramref name="limit"/> (the result is then >= limit, all the caller needs); also the blocks read.
    /// </summary>
    private (int Distance, int Blocks) Distance(int p, int j, int limit)
    {
        ReadOnlySpan<short> centre = _centre.AsSpan(j * _stride, _stride);
        int sum = 0, b = 0;
        while (b < _blockCount && sum < limit)
        {
            sum += QuantizedRows.SquaredDistance(centre.Slice(b * BlockWidth, BlockWidth), _blocks[b].AsSpan(p * BlockWidth, BlockWidth));
            b++;
        }
        return (sum, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Squares(sbyte* x, Vector256<short> c0, Vector256<short> c1)
    {
        var d0 = Avx2.ConvertToVector256Int16(x) - c0;
        var d1 = Avx2.ConvertToVector256Int16(x + 16) - c1;
        return Avx2.MultiplyAddAdjacent(d0, d0) + Avx2.MultiplyAddAdjacent(d1, d1);
    }

    /// <summary>Eight vectors of partial sums to one vector of their eight totals (vphaddd tree, then fold the halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Reduce(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3,
                                         Vector256<int> a4, Vector256<int> a5, Vector256<int> a6, Vector256<int> a7)
    {
        var u0 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3));
        var u1 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a4, a5), Avx2.HorizontalAdd(a6, a7));
        return Avx2.Permute2x128(u0, u1, 0x20) + Avx2.Permute2x128(u0, u1, 0x31);
    }
}
