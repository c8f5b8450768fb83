using EdgePatchCore.Artifacts;
using EdgePatchCore.Imaging;
using EdgePatchCore.Tiling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Scores preprocessed images against a memory bank: backbone + embedding, nearest-neighbour
/// distances of every patch, Eq. 7 image score, anomaly map. One instance per loaded model; calls are
/// serialised (the patch and distance buffers are allocated once and reused for every frame). A tiled model
/// (<see cref="Tiling"/>) scores one frame at a time: <see cref="TileLayout.TilesPerRun"/> tiles per backbone and kNN call, the
/// patch scores of all tiles stitched into one map at the scaled frame's size.
/// </summary>
public sealed class PatchCoreScorer : IDisposable
{
    private readonly FeatureExtractor _features;
    private readonly NearestNeighbourSearch _knn;
    private readonly PatchSearch _search;
    private readonly MaxPatch[] _one = new MaxPatch[1];
    private readonly float[] _floor = new float[1];
    private MaxPatch[] _best = [];
    private float[] _floors = [];
    private readonly AnomalyMapGenerator _maps;
    private readonly int[] _neighbours;
    private readonly int _bankRows, _tableWidth; // the neighbour table holds _tableWidth neighbours a row, b of them used
    private readonly Lock _gate = new();
    private float[] _patches = [];
    private float[] _distances = [];
    private readonly float[] _reweight; // the b distances of Eq. 7; b is bounded by the artifact's validation
    private readonly MapStitcher? _stitcher;
    private float[] _tileInputs = [];
    private float[] _frameScores = [];
    private float[] _bestPatch = [];
    private float[] _frameInput = [];
    private readonly TiledStageTimes _discardedTimes = new(); // where the stage times go when nobody asked for them
    private readonly bool _ownsFeatures;
    private readonly PatchCoreScorer? _wholeFrame; // a tiled model's whole-frame scale, sharing this scorer's backbone
    private readonly float _wholeFrameToTiles;
    private readonly ProfileFlattener? _wholeFrameFlattener;
    private float[] _wholeMap = [];

    /// <summary>
    /// Tiles per backbone and kNN call of a tiled frame: 8 x 784 query rows keep the int8 kNN kernel busy, and the
    /// buffers stay at 8 tiles (about 30 MB at 224 x 224 and 1024 dimensions) whatever the frame's size.
    /// </summary>

    public ScoringSpec Spec { get; }
    /// <summary>The model's tiling; null for a whole-frame model.</summary>
    public TilingSpec? Tiling { get; }
    public FeatureExtractor Features => _features;
    public BankPrecision Precision => _knn.Precision;
    public BackbonePrecision BackbonePrecision => _features.Precision;
    /// <summary>The precision in use and why ("int8 (auto: ...)"), for log lines.</summary>
    public string PrecisionDescription { get; }

    /// <summary>How the patches are searched and why ("bounded (977 cells, 1 probed a patch) search"), for log lines.</summary>
    public string SearchDescription { get; }
    public PatchSearchKind SearchKind => _search.Kind;

    public PatchCoreScorer(ModelContent model, ExecutionDevice device, BankPrecision precision = BankPrecision.Float32,
        PatchSearchKind search = PatchSearchKind.Bounded, BackbonePrecision backbonePrecision = BackbonePrecision.Auto)
        : this(model, device, Resolve(model, device, precision, backbonePrecision), search, features: null)
    {
    }

    private static ResolvedPrecisions Resolve(ModelContent model, ExecutionDevice device, BankPrecision bank, BackbonePrecision backbone)
    {
        using (device.CreateSessionOptions()) { } // decides CPU or CUDA, which "auto" depends on
        var (bankPrecision, bankReason) = BankPrecisions.Resolve(bank, device);
        var (backbonePrecision, backboneReason) = BackbonePrecisions.Resolve(backbone, model.Backbone, device);
        return new ResolvedPrecisions(bankPrecision, backbonePrecision, $"{BankPrecisions.Name(bankPrecision)} bank ({bankReason}), " +
            $"{BackbonePrecisions.Name(backbonePrecision)} backbone ({backboneReason})");
    }

    private sealed record ResolvedPrecisions(BankPrecision Bank, BackbonePrecision Backbone, string Description);

    /// <param name="features">the backbone to share (a whole-frame scale uses its tiled model's); null: this scorer makes and owns one</param>
    private PatchCoreScorer(ModelContent model, ExecutionDevice device, ResolvedPrecisions resolved, PatchSearchKind search,
        FeatureExtractor? features)
    {
        PrecisionDescription = resolved.Description;
        var precision = resolved.Bank;
        Spec = model.Scoring;
        _ownsFeatures = features is null;
        _features = features ?? new FeatureExtractor(model.Backbone, model.Input, device, resolved.Backbone);
        var bank = model.Bank.ToFloats();
        _knn = BankSearches.Create(bank, model.Bank.Rows, model.Bank.Columns, device, precision);
        _search = PatchSearches.For(search, model.Bank, bank, _knn, device, out string why);
        SearchDescription = why;
        _neighbours = model.Bank.NeighbourIndices();
        (_bankRows, _tableWidth) = (model.Bank.Rows, model.Bank.NeighbourCount);
        _maps = new AnomalyMapGenerator(model.Input.Width, model.Input.Height, Spec.BlurSigma);
        Tiling = model.Tiling;
        if (Tiling is not null) _stitcher = new MapStitcher(Spec.BlurSigma);
        _reweight = new float[Math.Max(1, Spec.NeighbourCount)];
        if (model.WholeFrameModel() is { } whole)
        {
            _wholeFrame = new PatchCoreScorer(whole, device, resolved, search, _features);
            _wholeFrameToTiles = model.WholeFrame!.ToTilesUnits;
            _wholeFrameFlattener = new ProfileFlattener(model.WholeFrame.Flattening);
            SearchDescription += $"; whole-frame scale: {whole.Bank.Rows} rows";
        }
    }

    /// <summary>Scores <paramref name="count"/> images laid out back to back (each 3 x H x W, RGB 0..1).</summary>
    public ImageScore[] Score(ReadOnlyMemory<float> inputs, int count)
    {
        lock (_gate) return ScoreLocked(inputs, count);
    }

    /// <summary>Backbone + embedding into the reused patch buffer, then the patch scores (callers hold the lock).</summary>
    private ImageScore[] ScoreLocked(ReadOnlyMemory<float> inputs, int count)
    {
        int length = count * _features.PatchesPerImage * _features.Dimensions;
        if (_patches.Length < length) _patches = new float[length];
        _features.Extract(inputs, count, _patches);
        return ScorePatchesLocked(_patches, count);
    }

    /// <summary>
    /// Decodes and scores files in batches; yields (index into <paramref name="paths"/>, score).
    /// Unreadable files go to <paramref name="onBadFile"/> and are left out.
    /// </summary>
    public IEnumerable<(int Index, ImageScore Score)> ScoreFiles(IReadOnlyList<string> paths, ImageLoader loader, int batchSize,
        Action<string, string> onBadFile, CancellationToken cancel = default)
    {
        if (Tiling is { } tiling)
        {
            foreach (var (index, frame) in new TiledFrameReader(loader, tiling).Read(paths, onBadFile, cancel: cancel))
                yield return (index, ScoreTiled(frame));
            yield break;
        }
        var reader = new ImageBatchReader(loader, _features.Input, batchSize);
        foreach (var batch in reader.Read(paths, onBadFile, cancel))
        {
            var scores = Score(batch.Data, batch.Count);
            for (int i = 0; i < batch.Count; i++) yield return (batch.SourceIndices[i], scores[i]);
        }
    }

    /// <summary>
    /// Scores one decoded frame as the model says: tiled, or resized to the input size. The map is at
    /// <see cref="MapGeometry"/> of the frame's size. For callers that have the image already (the agent, tests).
    /// </summary>
    public ImageScore ScoreFrame(Image<Rgb24> image, string name = "image")
    {
        if (Tiling is { } tiling)
        {
            using var frame = TiledFrame.From(image, tiling, name);
            return ScoreTiled(frame);
        }
        lock (_gate)
        {
            if (_frameInput.Length < _features.InputLength) _frameInput = new float[_features.InputLength];
            ImageLoader.ToInput(image, _features.Input, _frameInput, name);
            return ScoreLocked(_frameInput, 1)[0];
        }
    }

    /// <summary>Where the anomaly map of a frame of this size lies, as a resize of the frame: the input spec, or for a tiled model the scaled
    /// frame.</summary>
    public InputSpec MapGeometry(int frameWidth, int frameHeight) => Tiling?.MapGeometry(frameWidth, frameHeight) ?? _features.Input;

    /// <summary>
    /// Scores a tiled frame: per run of <see cref="TileLayout.TilesPerRun"/> tiles, backbone + embedding and the nearest-neighbour
    /// distance of every patch; s* and m* over all tiles; Eq. 7 once; the map stitched at the scaled frame's size.
    /// <paramref name="times"/>, when given, receives the time of each stage.
    /// </summary>
    public ImageScore ScoreTiled(TiledFrame frame, TiledStageTimes? times = null)
    {
        lock (_gate)
        {
            var layout = frame.Layout;
            if (layout.TileSize != _features.Input.Width || layout.TileSize != _features.Input.Height)
                throw new ArgumentException($"tiles of {layout.TileSize} pixels for a network input of {_features.Input.Width} x " +
                    $"{_features.Input.Height}");
            int per = _features.PatchesPerImage, dims = _features.Dimensions, tiles = layout.Count, run = Math.Min(TileLayout.TilesPerRun, tiles);
            if (_tileInputs.Length < run * _features.InputLength) _tileInputs = new float[run * _features.InputLength];
            if (_patches.Length < run * per * dims) _patches = new float[run * per * dims];
            if (_frameScores.Length < tiles * per) _frameScores = new float[tiles * per];
            if (_bestPatch.Length < dims) _bestPatch = new float[dims];
            long mark = System.Diagnostics.Stopwatch.GetTimestamp();
            void Lap(ref double total)
            {
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                total += System.Diagnostics.Stopwatch.GetElapsedTime(mark, now).TotalMilliseconds;
                mark = now;
            }
            var t = times ?? _discardedTimes.Reset();
            float sStar = float.NaN;
            int arg = 0, mStar = 0;
            for (int first = 0; first < tiles; first += run)
            {
                int n = Math.Min(run, tiles - first), rows = n * per;
                frame.WriteTiles(first, n, _tileInputs);
                Lap(ref t.TilingMs);
                _features.Extract(_tileInputs.AsMemory(0, n * _features.InputLength), n, _patches);
                Lap(ref t.BackboneMs);
                // 1. s_i = min_m ||p_i - m|| of the patches of these tiles (or an upper bound where it cannot be s*);
                // 2. s* = max_i s_i over the whole frame, and the bank row m* it matched: the earlier tiles' s* is the floor.
                _floor[0] = first == 0 ? float.NegativeInfinity : sStar;
                _search.Run(_patches.AsSpan(0, rows * dims), 1, rows, _frameScores.AsSpan(first * per, rows), _floor, _one);
                if (_one[0] is { Found: true } found)
                {
                    (sStar, arg, mStar) = (found.Distance, first * per + found.Index, found.Row);
                    _patches.AsSpan(found.Index * dims, dims).CopyTo(_bestPatch);
                }
                Lap(ref t.KnnMs);
            }
            // 3. s = w * s* (Eq. 7) from m*'s b nearest bank neighbours.
            float score = Reweighted(sStar, _bestPatch.AsSpan(0, dims), mStar);
            Lap(ref t.KnnMs);
            var map = _stitcher!.Stitch(_frameScores.AsSpan(0, tiles * per), _features.GridWidth, _features.GridHeight, layout);
            var patchScores = _frameScores.AsSpan(0, tiles * per).ToArray();
            Lap(ref t.StitchingMs);
            t.Tiles += tiles;
            ScaleScores? scales = null;
            if (_wholeFrame is not null)
            {
                scales = WholeFrameScale(frame, score, map);
                score = Math.Max(score, scales.WholeFrameInTilesUnits);
                Lap(ref t.WholeFrameMs);
            }
            return new ImageScore
            {
                Score = score, MaxPatchScore = sStar, MaxPatchIndex = arg, PatchScores = patchScores,
                AnomalyMap = map, MapWidth = layout.Width, MapHeight = layout.Height, Scales = scales,
            };
        }
    }

    /// <summary>
    /// 4. The whole-frame scale (docs/TILING.md, "Both scales"): the scaled frame resized to the network input, scored against the
    /// whole-frame bank; its map, in the tiles' units (x <see cref="WholeFrameView.ToTilesUnits"/>), resized onto the tiled
    /// <paramref name="map"/> (layout width x height), which keeps the larger value at each pixel. Callers hold the lock.
    /// </summary>
    private ScaleScores WholeFrameScale(TiledFrame frame, float tilesScore, float[] map)
    {
        if (_frameInput.Length < _features.InputLength) _frameInput = new float[_features.InputLength];
        _wholeFrameFlattener!.ToInput(frame.Scaled, _features.Input, _frameInput, "frame");
        var whole = _wholeFrame!.Score(_frameInput.AsMemory(0, _features.InputLength), 1)[0];
        var layout = frame.Layout;
        if (_wholeMap.Length < map.Length) _wholeMap = new float[map.Length];
        var resized = _wholeMap.AsSpan(0, map.Length);
        Resampling.ResizeBilinear(whole.AnomalyMap, whole.MapWidth, whole.MapHeight, resized, layout.Width, layout.Height);
        System.Numerics.Tensors.TensorPrimitives.Multiply(resized, _wholeFrameToTiles, resized);
        System.Numerics.Tensors.TensorPrimitives.Max(map, resized, map);
        return new ScaleScores(tilesScore, whole.Score, _wholeFrameToTiles);
    }

    /// <summary>Scores already-embedded patches (count x patchesPerImage x D).</summary>
    public ImageScore[] ScorePatches(float[] patches, int count)
    {
        lock (_gate) return ScorePatchesLocked(patches, count);
    }

    private ImageScore[] ScorePatchesLocked(float[] patches, int count)
    {
        int per = _features.PatchesPerImage, dims = _features.Dimensions;
        if (_distances.Length < count * per) _distances = new float[count * per];
        if (_best.Length < count) (_best, _floors) = (new MaxPatch[count], new float[count]);
        var distances = _distances;
        _floors.AsSpan(0, count).Fill(float.NegativeInfinity);
        // 1. s_i of every patch (or an upper bound where it cannot be s*); 2. s* = max_i s_i and the bank row m* it matched.
        _search.Run(patches.AsSpan(0, count * per * dims), count, per, distances, _floors.AsSpan(0, count), _best.AsSpan(0, count));
        var results = new ImageScore[count];
        for (int i = 0; i < count; i++)
        {
            // 3. s = w * s* (Eq. 7).
            var scores = distances.AsSpan(i * per, per);
            var (arg, sStar, mStar) = (_best[i].Index, _best[i].Distance, _best[i].Row);
            float score = Reweighted(sStar, patches.AsSpan((i * per + arg) * dims, dims), mStar);
            results[i] = new ImageScore
            {
                Score = score,
                MaxPatchScore = sStar,
                MaxPatchIndex = arg,
                PatchScores = scores.ToArray(),
                AnomalyMap = _maps.Generate(scores, _features.GridWidth, _features.GridHeight),
                MapWidth = _maps.Width,
                MapHeight = _maps.Height,
            };
        }
        return results;
    }

    /// <summary>s = w * s* (Eq. 7) for the patch <paramref name="query"/> that matched bank row <paramref name="mStar"/>; s* when b is 1.</summary>
    private float Reweighted(float sStar, ReadOnlySpan<float> query, int mStar)
    {
        int b = ImageScoreReweighting.NeighbourCount(Spec, _bankRows);
        return b <= 1 ? sStar : ImageScoreReweighting.Score(sStar, query, _neighbours.AsSpan(mStar * _tableWidth, b), _knn, _reweight);
    }

    /// <summary>What the patch search did since the last call (rows compared, patches searched exactly), for benchmarks.</summary>
    public SearchWork TakeSearchWork()
    {
        lock (_gate) return _search.TakeWork();
    }

    public void Dispose()
    {
        _wholeFrame?.Dispose();
        _wholeFrameFlattener?.Dispose();
        _search.Dispose();
        _knn.Dispose();
        if (_ownsFeatures) _features.Dispose();
    }
}
