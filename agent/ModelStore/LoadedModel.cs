using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Agent.ModelStore;

/// <summary>
/// A verified artifact with its warmed-up scoring session. Reference-counted: the store holds one
/// reference, every batch in flight holds one, and the session is disposed when the last one is released,
/// so a swap never pulls a model out from under a frame being scored.
/// </summary>
public sealed class LoadedModel
{
    private int _references = 1;

    public required string Product { get; init; }
    public required string Id { get; init; }
    public required string Path { get; init; }
    public required DateTime CreatedAtUtc { get; init; }
    public required float Threshold { get; init; }
    /// <summary>The REVIEW band's lower edge (Agent:ReviewRate; docs/agent.md): ok parts scoring at or above it are marked for review; null:
    /// no band.</summary>
    public float? ReviewThreshold { get; init; }
    public required InputSpec Input { get; init; }
    public required PatchCoreScorer Scorer { get; init; }
    public required string Device { get; init; }
    /// <summary>The signed release statement, when a trusted key verified it (null for unsigned or unverifiable models).</summary>
    public Artifacts.ReleaseStatement? SignedRelease { get; init; }
    /// <summary>The id of the trusted key that verified <see cref="SignedRelease"/>.</summary>
    public string? SignedBy { get; init; }
    public required byte[] PayloadHash { get; init; }
    /// <summary>The model this one was extended from (`trainer extend`); null for a full build.</summary>
    public string? ParentId { get; init; }
    /// <summary>For a model extended on this device: the model it was derived from (marked in every verdict).</summary>
    public string? DerivedOnDeviceFrom { get; init; }
    /// <summary><see cref="Artifacts.ModelContent.FeatureSpec"/> of the model.</summary>
    public string FeatureSpec { get; init; } = "";

    /// <summary>Only called by the store while it still holds its own reference.</summary>
    internal LoadedModel AddReference()
    {
        Interlocked.Increment(ref _references);
        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) Scorer.Dispose();
    }
}
