using System.Numerics.Tensors;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>
/// s* and m* exactly, without searching every patch against the whole bank (docs/design.md, "Bounded search").
/// Any bank row's distance is an upper bound u_i of a patch's nearest distance s_i; the rows of the patch's nearest
/// cell (<see cref="BankCells"/>) give a tight one for a small share of the bank. A patch whose u_i is below the
/// exact s_i of another patch cannot hold the maximum, so only the patches that can still beat the best exact
/// distance found so far are searched exhaustively, in decreasing order of u_i, until none can. s*, m* and Eq. 7
/// are those of the exhaustive search; the patch scores of the patches not searched exactly are their u_i.
/// </summary>
public sealed class BoundedPatchSearch : PatchSearch
{
    /// <summary>
    /// Cells probed per patch for its upper bound. The verdict is exact with any number; more probes give tighter bounds for
    /// the map at the cost of more rows read. On MTD (977 cells) 4, 6 and 8 probes put pixel AUROC 0.0017, 0.0010 and 0.0007
    /// below the exhaustive map's, PRO 0.0016, 0.0013 and 0.0011; 6 leaves a margin to the 0.002 the map is held to and takes
    /// a fifth off a tiled frame's search against 8 (docs/benchmarks.md, "Bounded search").
    /// </summary>
    public const int DefaultProbes = 6;
    /// <summary>Patches per group in the first exact search, then in each later one.</summary>
    private const int FirstRound = 8, LaterRounds = 32;
    // Slack on the bound: the exhaustive search's distances come from a GEMM, summed in another order than u_i; a patch
    // whose bound is within rounding of the best distance is searched, never skipped.
    private const float RelativeSlack = 1e-4f, AbsoluteSlack = 1e-3f;

    private readonly NearestNeighbourSearch _bank;
    private readonly NearestNeighbourSearch _centres;
    private readonly int[] _starts;
    private readonly int _probes;
    private float[] _upper = [], _exactDistances = [], _exactQueries = [];
    private int[] _cells = [], _order = [], _exactRows = [];
    private float[] _sortKeys = [], _bound = [];
    private int[] _next = [], _probeOrder = [];
    private float[] _probeScores = [];
    private int[] _probeRows = [];
    private readonly int[] _probeStarts, _cursor, _ranges;
    private readonly int _workers = Environment.ProcessorCount;
    private readonly CellProbe _probe;

    public override string Name => $"bounded ({_starts.Length - 1} cells, {_probes} probed a patch)";
    public override PatchSearchKind Kind => PatchSearchKind.Bounded;
    public override int BankRows => _bank.Rows;

    /// <param name="search">the exact (reference) search over the bank; not owned</param>
    /// <param name="bank">the bank's float32 rows, rows x D, as the search has them</param>
    public BoundedPatchSearch(NearestNeighbourSearch search, float[] bank, BankCells cells, ExecutionDevice device, int probes = 0)
    {
        _bank = search;
        var members = cells.MemberRows();
        _starts = cells.CellStarts();
        _probes = Math.Clamp(probes == 0 ? DefaultProbes : probes, 1, cells.Centers);
        (_probeStarts, _cursor, _ranges) = (new int[cells.Centers + 1], new int[cells.Centers], new int[_workers + 1]);
        _probe = new CellProbe(bank, search.Rows, search.Dimensions, members);
        // The centroids are searched at the bank's precision: which cells a patch probes only steers the work, never u_i's correctness.
        _centres = BankSearches.Create(cells.CentroidRows(), cells.Centers, search.Dimensions, device, search.Precision);
    }

    public override void Run(ReadOnlySpan<float> patches, int groups, int per, Span<float> patchScores, ReadOnlySpan<float> floors,
        Span<MaxPatch> best)
    {
        int n = groups * per, d = _bank.Dimensions;
        Grow(n, groups);
        // 1a. The nearest cells of every patch: the P likeliest nearest centroids (the int8 GEMM's ranking where the bank is int8).
        _centres.Likeliest(patches, n, _probes, _cells);
        // 1b. u_i >= s_i: the nearest row of those cells.
        long visited = UpperBounds(patches, n) + (long)n * (_starts.Length - 1);
        _upper.AsSpan(0, n).CopyTo(patchScores);

        // 2. s* = max_i s_i: exact searches in decreasing order of u_i while a patch can still beat the best exact s_i.
        var bound = _bound;   // per group, the distance to beat: the floor, then the best exact s_i found
        var next = _next;     // per group, the position in its order
        for (int g = 0; g < groups; g++)
        {
            (bound[g], next[g]) = (floors[g], 0);
            best[g] = MaxPatch.None;
            for (int i = 0; i < per; i++) (_sortKeys[g * per + i], _order[g * per + i]) = (-_upper[g * per + i], i);
            Array.Sort(_sortKeys, _order, g * per, per);
        }
        long exact = 0;
        for (int round = 0; ; round++)
        {
            int take = round == 0 ? FirstRound : LaterRounds, count = 0;
            for (int g = 0; g < groups; g++)
                for (int t = 0; t < take && next[g] < per; t++)
                {
                    int i = _order[g * per + next[g]];
                    if (!CanBeat(_upper[g * per + i], bound[g])) { next[g] = per; break; } // the rest are lower still
                    next[g]++;
                    patches.Slice((g * per + i) * d, d).CopyTo(_exactQueries.AsSpan(count * d, d));
                    _exactRows[count++] = g * per + i;
                }
            if (count == 0) break;
            _bank.Search(_exactQueries.AsSpan(0, count * d), count, 1, _exactDistances.AsSpan(0, count), _order.AsSpan(n, count));
            exact += count;
            for (int j = 0; j < count; j++)
            {
                int at = _exactRows[j], g = at / per, i = at % per;
                float s = _exactDistances[j];
                patchScores[at] = s;
                if (s > bound[g] || (s == bound[g] && best[g].Found && i < best[g].Index))
                {
                    best[g] = new MaxPatch(i, s, _order[n + j]);
                    bound[g] = s;
                }
            }
        }
        Count(n, exact, visited + exact * _bank.Rows);
    }

    private static bool CanBeat(float upper, float bound) => upper + upper * RelativeSlack + AbsoluteSlack >= bound;

    /// <summary>
    /// u_i for each of the n patches (n x D) from the rows of its probed cells (<see cref="CellProbe"/>); returns the rows compared.
    /// The probes are grouped by cell, so that a cell's rows are read from memory once per call and stay in cache for every
    /// patch that probes it.
    /// </summary>
    private long UpperBounds(ReadOnlySpan<float> patches, int n)
    {
        int d = _bank.Dimensions, probes = n * _probes, cellCount = _starts.Length - 1, k = CellProbe.Candidates;
        _probe.SetQueries(patches, n, d);
        // Counting sort of the probes by cell: _probeOrder[_probeStarts[c].._probeStarts[c + 1]] are cell c's probes.
        var probeStarts = _probeStarts;
        Array.Clear(probeStarts);
        for (int j = 0; j < probes; j++) probeStarts[_cells[j] + 1]++;
        for (int c = 0; c < cellCount; c++) probeStarts[c + 1] += probeStarts[c];
        probeStarts.AsSpan(0, cellCount).CopyTo(_cursor);
        for (int j = 0; j < probes; j++) _probeOrder[_cursor[_cells[j]]++] = j;
        // Cells split into one range per worker of about equal work (probes x rows).
        int threads = Math.Clamp(n / 64, 1, _workers);
        long total = 0;
        for (int c = 0; c < cellCount; c++) total += (long)(probeStarts[c + 1] - probeStarts[c]) * (_starts[c + 1] - _starts[c]);
        var bounds = _ranges;
        bounds[0] = 0;
        int next = 1;
        long done = 0;
        for (int c = 0; c < cellCount && next < threads; c++)
        {
            done += (long)(probeStarts[c + 1] - probeStarts[c]) * (_starts[c + 1] - _starts[c]);
            while (next < threads && done * threads >= total * next) bounds[next++] = c + 1;
        }
        while (next <= threads) bounds[next++] = cellCount;
        // 1b. Each probe's likeliest rows by the int8 scan.
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            Span<int> queries = stackalloc int[4];
            Span<float> best = stackalloc float[4 * k];
            Span<int> rows = stackalloc int[4 * k];
            for (int c = bounds[t]; c < bounds[t + 1]; c++)
                for (int o = probeStarts[c]; o < probeStarts[c + 1]; o += 4)
                {
                    int count = Math.Min(4, probeStarts[c + 1] - o);
                    for (int b = 0; b < count; b++) queries[b] = _probeOrder[o + b] / _probes;
                    _probe.Scan(queries[..count], _starts[c], _starts[c + 1], best, rows);
                    for (int b = 0; b < count; b++)
                    {
                        int j = _probeOrder[o + b];
                        best.Slice(b * k, k).CopyTo(_probeScores.AsSpan(j * k, k));
                        rows.Slice(b * k, k).CopyTo(_probeRows.AsSpan(j * k, k));
                    }
                }
        });
        // 1c. u_i: the exact distance of the patch's likeliest rows over all its probes (+infinity if its cells were empty). Two float32
        // rows of the bank a patch, read from all over it: on every core.
        unsafe
        {
            fixed (float* all = patches)
            {
                nint at = (nint)all;
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    for (int i = n * t / threads; i < n * (t + 1) / threads; i++)
                        _upper[i] = UpperBound(new ReadOnlySpan<float>((float*)at + (long)i * d, d), i);
                });
            }
        }
        long visited = 0;
        for (int j = 0; j < probes; j++) visited += _starts[_cells[j] + 1] - _starts[_cells[j]];
        return visited;
    }

    /// <summary>u_i of patch i (D values): the smaller exact distance of its two likeliest rows over all its probes.</summary>
    private float UpperBound(ReadOnlySpan<float> patch, int i)
    {
        int k = CellProbe.Candidates;
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        int firstRow = -1, secondRow = -1;
        for (int j = i * _probes * k; j < (i + 1) * _probes * k; j++)
        {
            float score = _probeScores[j];
            if (score <= second || _probeRows[j] < 0 || _probeRows[j] == firstRow) continue;
            if (score > first) (second, secondRow, first, firstRow) = (first, firstRow, score, _probeRows[j]);
            else (second, secondRow) = (score, _probeRows[j]);
        }
        float upper = firstRow < 0 ? float.PositiveInfinity : _bank.Distance(patch, firstRow);
        if (secondRow >= 0) upper = Math.Min(upper, _bank.Distance(patch, secondRow));
        return upper;
    }

    private void Grow(int n, int groups)
    {
        int d = _bank.Dimensions, exact = groups * LaterRounds;
        if (_upper.Length < n)
        {
            (_upper, _sortKeys) = (new float[n], new float[n]);
            _cells = new int[n * _probes];
            _probeOrder = new int[n * _probes];
            (_probeScores, _probeRows) = (new float[n * _probes * CellProbe.Candidates], new int[n * _probes * CellProbe.Candidates]);
        }
        if (_order.Length < n + exact) _order = new int[n + exact];
        if (_bound.Length < groups) (_bound, _next) = (new float[groups], new int[groups]);
        if (_exactRows.Length < exact) (_exactRows, _exactDistances, _exactQueries) = (new int[exact], new float[exact], new float[exact * d]);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _centres.Dispose();
    }
}
