namespace EdgePatchCore.Scoring;

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
    /// <summary>Each scale's score, for a tiled model with a whole-frame scale; null otherwise.</summary>
    public ScaleScores? Scales { get; init; }
}
