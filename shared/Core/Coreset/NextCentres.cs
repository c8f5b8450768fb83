namespace EdgePatchCore.Coreset;

/// <summary>
/// The greedy selection's next centres, found before the pass that applies them, so that one pass over the points serves
/// several steps (docs/design.md, "Coreset selection in batches"). A pass leaves the L points farthest from the chosen set
/// (<see cref="FarthestCandidates"/>), exactly, and every other point ranks below the last of them. Adding a centre c makes a
/// candidate's squared distance min(d, |p - c|^2), computed here for the L candidates alone; every other point's distance
/// can only have shrunk. So while the farthest candidate still ranks at or above the last candidate's place before the
/// batch, it is the farthest of all points: the next centre, exactly as a pass would have found it. The batch ends where
/// that no longer holds, or at <c>maxCentres</c>.
/// </summary>
internal static class NextCentres
{
    /// <param name="values">the candidates' squared distances, farthest first (L); used as scratch</param>
    /// <param name="indices">the candidates' point indices, in the same order (L)</param>
    /// <param name="complete">the candidates are all the points: no point outside them</param>
    /// <param name="squaredDistance">the exact squared distance between two points, as the pass computes it</param>
    /// <param name="radiusSquared">a centre is only added while the farthest point is farther than this (-1: always)</param>
    /// <param name="centres">the next centres, in selection order</param>
    /// <param name="farthest">for each of them, the squared distance of the farthest point before it was added (its own)</param>
    /// <returns>how many centres are known (0 only when the farthest point is within <paramref name="radiusSquared"/>)</returns>
    public static int Plan(int[] values, int[] indices, int count, bool complete, Func<int, int, int> squaredDistance, int maxCentres,
        int radiusSquared, Span<int> centres, Span<int> farthest)
    {
        if (count == 0) return 0;
        int floorValue = values[count - 1], floorIndex = indices[count - 1];
        int planned = 0;
        while (planned < maxCentres)
        {
            int b = 0; // the farthest candidate: larger distance, then lower index
            for (int i = 1; i < count; i++)
                if (values[i] > values[b] || (values[i] == values[b] && indices[i] < indices[b])) b = i;
            bool aboveFloor = values[b] > floorValue || (values[b] == floorValue && indices[b] <= floorIndex);
            if (planned > 0 && !complete && !aboveFloor) break; // a point outside the candidates may be as far
            if (values[b] <= radiusSquared) break;
            (centres[planned], farthest[planned]) = (indices[b], values[b]);
            planned++;
            for (int i = 0; i < count; i++) values[i] = Math.Min(values[i], squaredDistance(indices[i], indices[b]));
        }
        return planned;
    }
}
