namespace EdgePatchCore.Coreset;

/// <summary>
/// The chosen rows, in selection order, the coverage radius they achieve (in projection units), and the work done:
/// how many of the point-row blocks (32 dimensions each) the passes read, out of all of them for all steps.
/// Per point (N): <see cref="MinDistances"/>, its squared int8 distance to the nearest chosen row, and
/// <see cref="Nearest"/>, the selection step of that row (the first one at that distance); cross-fitting
/// (<see cref="FoldBanks"/>) starts from them.
/// </summary>
public sealed record CoresetResult(int[] Indices, float CoverageRadius, long BlocksRead, long BlocksTotal, int[] MinDistances, int[] Nearest)
{
    /// <summary>(rows chosen, coverage radius) at about 500 points of the selection, for the build report.</summary>
    public IReadOnlyList<(int Rows, float Radius)> RadiusTrace { get; init; } = [];

    /// <summary>Passes over the points: one per step for a plain run, fewer where a pass applied a batch of centres.</summary>
    public int Passes { get; init; }

    /// <summary>The largest of <see cref="MinDistances"/>: the squared coverage radius in int8 units.</summary>
    public int RadiusSquared => MinDistances.Length == 0 ? 0 : MinDistances.Max();

    /// <summary>Share of the rows' data the selection did not have to read.</summary>
    public double PrunedShare => 1 - (double)BlocksRead / Math.Max(1, BlocksTotal);
}
