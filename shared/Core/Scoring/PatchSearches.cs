using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>The one place that picks how a model's patches are searched.</summary>
public static class PatchSearches
{
    /// <summary>
    /// The bounded search when asked for and the bank has a cell index, else the exhaustive one; <paramref name="why"/> says which
    /// and why, for the one log line a scorer writes about it.
    /// </summary>
    /// <param name="search">the exact search over <paramref name="bank"/>; shared, not owned</param>
    /// <param name="bankRows">the bank's rows as float32 (rows x D), as the search was made from</param>
    public static PatchSearch For(PatchSearchKind kind, MemoryBank bank, float[] bankRows, NearestNeighbourSearch search,
        ExecutionDevice device, out string why)
    {
        if (kind == PatchSearchKind.Exhaustive)
        {
            why = "exhaustive search (asked for)";
            return new ExhaustivePatchSearch(search);
        }
        if (bank.Cells is not { } cells)
        {
            why = "exhaustive search: the artifact holds no cell index for the bounded search (rebuild or extend the model to add one)";
            return new ExhaustivePatchSearch(search);
        }
        var bounded = new BoundedPatchSearch(search, bankRows, cells, device);
        why = bounded.Name + " search";
        return bounded;
    }

    public static PatchSearchKind Parse(string text) => text.ToLowerInvariant() switch
    {
        "bounded" => PatchSearchKind.Bounded,
        "exhaustive" => PatchSearchKind.Exhaustive,
        _ => throw new ArgumentException($"unknown search '{text}' (expected bounded or exhaustive)"),
    };
}
