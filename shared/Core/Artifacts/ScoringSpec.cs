using MessagePack;

namespace EdgePatchCore.Artifacts;

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
