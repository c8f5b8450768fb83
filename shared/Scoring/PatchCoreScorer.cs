using EdgePatchCore.Artifacts;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Scores preprocessed images against a memory bank: backbone + embedding, nearest-neighbour
/// distances of every patch, Eq. 7 image score, anomaly map. One instance per loaded model; calls are
/// serialised (the patch and distance buffers are allocated once and reused for every frame).
/// </summary>
public sealed class PatchCoreScorer : IDisposable
{
    private readonly FeatureExtractor _features;
    private readonly NearestNeighbourSearch _knn;
    private readonly AnomalyMapGenerator _maps;
    private readonly int[] _neighbours;
    private readonly Lock _gate = new();
    private float[] _patches = [];
    private float[] _distances = [];
    private int[] _nearest = [];
    private readonly float[] _reweight; // the b distances of Eq. 7; b is bounded by the artifact's validation
    public ScoringSpec Spec { get; }
    public FeatureExtractor Features => _features;
    public BankPrecision Precision => _knn.Precision;
    /// <summary>The precision in use and why ("int8 (auto: ...)"), for log lines.</summary>
    public string PrecisionDescription { get; }

    public PatchCoreScorer(ModelContent model, ExecutionDevice device, BankPrecision precision = BankPrecision.Float32)
    {
        using (device.CreateSessionOptions()) { } // decides CPU or CUDA, which "auto" depends on
        var (resolved, reason) = BankPrecisions.Resolve(precision, device);
        PrecisionDescription = $"{BankPrecisions.Name(resolved)} bank ({reason})";
        precision = resolved;
        Spec = model.Scoring;
        _features = new FeatureExtractor(model.Backbone, model.Input, device);
        var bank = model.Bank.ToFloats();
        _knn = new NearestNeighbourSearch(bank, model.Bank.Rows, model.Bank.Columns, device, precision);
        _neighbours = model.Bank.NeighbourIndices();
        _maps = new AnomalyMapGenerator(model.Input.Width, model.Input.Height, Spec.BlurSigma);
        _reweight = new float[Math.Max(1, Spec.NeighbourCount)];
    }

    /// <summary>Scores <paramref name="count"/> images laid out back to back (each 3 x H x W, RGB 0..1).</summary>
    public ImageScore[] Score(ReadOnlyMemory<float> inputs, int count)
    {
        lock (_gate)
        {
            int length = count * _features.PatchesPerImage * _features.Dimensions;
            if (_patches.Length < length) _patches = new float[length];
            _features.Extract(inputs, count, _patches);
            return ScorePatchesLocked(_patches, count);
        }
    }

    /// <summary>
    /// Decodes and scores files in batches; yields (index into <paramref name="paths"/>, score).
    /// Unreadable files go to <paramref name="onBadFile"/> and are left out.
    /// </summary>
    public IEnumerable<(int Index, ImageScore Score)> ScoreFiles(IReadOnlyList<string> paths, ImageLoader loader, int batchSize,
        Action<string, string> onBadFile, CancellationToken cancel = default)
    {
        var reader = new ImageBatchReader(loader, _features.Input, batchSize);
        foreach (var batch in reader.Read(paths, onBadFile, cancel))
        {
            var scores = Score(batch.Data, batch.Count);
            for (int i = 0; i < batch.Count; i++) yield return (batch.SourceIndices[i], scores[i]);
        }
    }

    /// <summary>Scores already-embedded patches (count x patchesPerImage x D).</summary>
    public ImageScore[] ScorePatches(float[] patches, int count)
    {
        lock (_gate) return ScorePatchesLocked(patches, count);
    }

    private ImageScore[] ScorePatchesLocked(float[] patches, int count)
    {
        int per = _features.PatchesPerImage, dims = _features.Dimensions;
        if (_distances.Length < count * per) (_distances, _nearest) = (new float[count * per], new int[count * per]);
        var distances = _distances;
        var nearest = _nearest;
        _knn.Search(patches, count * per, 1, distances, nearest);
        var results = new ImageScore[count];
        for (int i = 0; i < count; i++)
        {
            var scores = distances.AsSpan(i * per, per);
            int arg = 0;
            for (int p = 1; p < per; p++) if (scores[p] > scores[arg]) arg = p;
            float sStar = scores[arg];
            float score = sStar;
            if (Spec.Reweight && Spec.NeighbourCount > 1)
            {
                int b = Spec.NeighbourCount, mStar = nearest[i * per + arg];
                var query = patches.AsSpan((i * per + arg) * dims, dims);
                score = ImageScoreReweighting.Score(sStar, query, _neighbours.AsSpan(mStar * b, b), _knn, _reweight);
            }
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

    public void Dispose()
    {
        _knn.Dispose();
        _features.Dispose();
    }
}
