using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>Every patch against the whole bank: the exact s_i of every patch; the reference the bounded search is tested against.</summary>
public sealed class ExhaustivePatchSearch(NearestNeighbourSearch bank) : PatchSearch
{
    private float[] _distances = [];
    private int[] _nearest = [];

    public override string Name => "exhaustive";
    public override PatchSearchKind Kind => PatchSearchKind.Exhaustive;
    public override int BankRows => bank.Rows;

    public override void Run(ReadOnlySpan<float> patches, int groups, int per, Span<float> patchScores, ReadOnlySpan<float> floors,
        Span<MaxPatch> best)
    {
        int n = groups * per;
        if (_distances.Length < n) (_distances, _nearest) = (new float[n], new int[n]);
        // 1. s_i = min_m ||p_i - m|| for every patch.
        bank.Search(patches, n, 1, _distances, _nearest);
        _distances.AsSpan(0, n).CopyTo(patchScores);
        for (int g = 0; g < groups; g++)
        {
            // 2. s* = max_i s_i and the bank row m* it matched.
            int arg = ImageScoreReweighting.ArgMax(_distances.AsSpan(g * per, per));
            float s = _distances[g * per + arg];
            best[g] = s > floors[g] ? new MaxPatch(arg, s, _nearest[g * per + arg]) : MaxPatch.None;
        }
        Count(n, n, (long)n * bank.Rows);
    }
}
