namespace EdgePatchCore.Scoring;

/// <summary>
/// Steps 1 and 2 of the image score (s_i of the patches, s* and m*) for groups of patches. One strategy per file,
/// <see cref="ExhaustivePatchSearch"/> and <see cref="BoundedPatchSearch"/>, chosen in one place,
/// <see cref="PatchSearches.For"/>; both give the same s*, m* and image score.
/// </summary>
public abstract class PatchSearch : IDisposable
{
    private long _patches, _exact, _visited;

    /// <summary>For log lines and `trainer inspect`: "bounded (977 cells)", "exhaustive".</summary>
    public abstract string Name { get; }
    public abstract PatchSearchKind Kind { get; }
    /// <summary>Rows of the bank searched.</summary>
    public abstract int BankRows { get; }

    /// <summary>
    /// For <paramref name="groups"/> groups of <paramref name="per"/> patches (<paramref name="patches"/>: groups x per x D):
    /// each patch's s_i into <paramref name="patchScores"/> (groups x per; an upper bound of s_i where the strategy did
    /// not need the exact value), and per group the patch with the largest s_i, if that is larger than the group's
    /// <paramref name="floors"/> entry (the s* of patches searched before; negative infinity for none), into
    /// <paramref name="best"/> (groups; <see cref="MaxPatch.None"/> otherwise). Equal s_i: the first patch wins.
    /// </summary>
    public abstract void Run(ReadOnlySpan<float> patches, int groups, int per, Span<float> patchScores, ReadOnlySpan<float> floors,
        Span<MaxPatch> best);

    /// <summary>The work done since the last call, and starts counting afresh.</summary>
    public SearchWork TakeWork()
    {
        var work = new SearchWork(_patches, _exact, _visited, BankRows);
        (_patches, _exact, _visited) = (0, 0, 0);
        return work;
    }

    private protected void Count(long patches, long exact, long visited)
    {
        _patches += patches;
        _exact += exact;
        _visited += visited;
    }

    protected virtual void Dispose(bool disposing) { }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
