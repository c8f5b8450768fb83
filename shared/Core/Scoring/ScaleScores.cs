namespace EdgePatchCore.Scoring;

/// <summary>
/// Each scale's own image score for a model with both scales (<see cref="Artifacts.WholeFrameView"/>), as scored: the tiles' and the
/// whole frame's, each against its own bank. The frame's score is max(Tiles, WholeFrame x <see cref="WholeFrameToTiles"/>).
/// </summary>
public sealed record ScaleScores(float Tiles, float WholeFrame, float WholeFrameToTiles)
{
    /// <summary>The whole frame's score in the tiles' units (divided by its threshold, times the tiles' threshold).</summary>
    public float WholeFrameInTilesUnits => WholeFrame * WholeFrameToTiles;

    /// <summary>Whether the frame's score is the whole frame's (else the tiles').</summary>
    public bool WholeFrameDecides => WholeFrameInTilesUnits > Tiles;
}
