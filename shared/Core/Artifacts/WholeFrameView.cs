using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// The second scale of a tiled model (docs/TILING.md, "Both scales"): the whole frame resized to the network input and
/// scored against a bank of its own, built from the same training images. Each scale's score is divided by its own
/// cross-fitted threshold; the frame's score is the larger, in the tiles' units (<see cref="Scoring.ScaleScores"/>).
/// </summary>
[MessagePackObject]
public sealed record WholeFrameView
{
    /// <summary>Patch rows of whole frames, with their Eq. 7 neighbour table and cell index.</summary>
    [Key(0)] public required MemoryBank Bank { get; init; }
    // Key 1 is unused: the whole-frame scale's embedding is the model's own (same backbone, same network input).
    /// <summary>The whole-frame scale's own cross-fitted threshold: its scores are divided by it.</summary>
    [Key(2)] public required float Threshold { get; init; }
    /// <summary>The tiles' own cross-fitted threshold (the model's <see cref="ScoringSpec.Threshold"/> is that of the combined score).</summary>
    [Key(3)] public required float TilesThreshold { get; init; }
    /// <summary>Patches the whole-frame bank was selected from.</summary>
    [Key(4)] public int TrainingPatchCount { get; init; }
    /// <summary>The line profile flattened in each whole-frame input before the backbone (Off in models built without it).</summary>
    [Key(5)] public Imaging.ProfileFlattening Flattening { get; init; }

    /// <summary>What a whole-frame score is multiplied by to be compared with a tiled one: the ratio of their thresholds.</summary>
    [IgnoreMember] public float ToTilesUnits => TilesThreshold / Threshold;
}
