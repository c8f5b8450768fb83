using MessagePack;

namespace EdgePatchCore.Scoring;

/// <summary>How patch distances become an image score and a map; stored in the artifact.</summary>
[MessagePackObject]
public sealed record ScoringSpec
{
    /// <summary>Nearest neighbours per test patch (PatchCore uses 1).</summary>
    [Key(0)] public int K { get; init; } = 1;
    /// <summary>b of Eq. 7: how many bank neighbours of the matched entry (itself included) enter the softmax.</summary>
    [Key(1)] public int NeighbourCount { get; init; } = 9;
    /// <summary>Eq. 7 re-weighting of the image score; off gives the plain maximum patch score.</summary>
    [Key(2)] public bool Reweight { get; init; } = true;
    [Key(3)] public float BlurSigma { get; init; } = 4f;
    /// <summary>Decision threshold on the image score (from calibration; agents may override).</summary>
    [Key(4)] public float Threshold { get; init; } = float.NaN;
    /// <summary>How the normalised score is formed; "score/threshold" is the only one so far.</summary>
    [Key(5)] public string Normalisation { get; init; } = "score/threshold";
}

/// <summary>The result of scoring one image.</summary>
public sealed record ImageScore
{
    /// <summary>The image score: Eq. 7 re-weighted maximum patch score (or the plain maximum).</summary>
    public required float Score { get; init; }
    /// <summary>The largest nearest-neighbour distance of any patch (s* of the paper).</summary>
    public required float MaxPatchScore { get; init; }
    /// <summary>Index of that patch on the grid (row-major).</summary>
    public required int MaxPatchIndex { get; init; }
    /// <summary>Nearest-neighbour distance of each patch, GridHeight x GridWidth.</summary>
    public required float[] PatchScores { get; init; }
    /// <summary>The anomaly map at the network input size (MapHeight x MapWidth), smoothed.</summary>
    public required float[] AnomalyMap { get; init; }
    public required int MapWidth { get; init; }
    public required int MapHeight { get; init; }
}
