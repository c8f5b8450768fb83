namespace EdgePatchCore.Scoring;

/// <summary>How the patches of a frame are searched against the bank (`--search`, Agent:Search).</summary>
public enum PatchSearchKind
{
    /// <summary>Bounded where the artifact has a cell index, else exhaustive (<see cref="PatchSearches.For"/>).</summary>
    Bounded,
    /// <summary>Every patch against every bank row: the reference.</summary>
    Exhaustive,
}
