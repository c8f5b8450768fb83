using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgePatchCore.Coreset;

/// <summary>
/// The L points of a range farthest from the chosen set, in the greedy selection's order: larger squared distance first,
/// then lower index. A pass offers its points in increasing index order, so a point that only ties the L-th kept one comes
/// after it and is turned away: the strict comparison with <see cref="Threshold"/> is the whole test. A min-heap on that
/// order keeps the worst kept point on top. One per chunk of a pass; <see cref="Merge"/> joins them.
/// </summary>
internal sealed class FarthestCandidates
{
    private readonly int[] _values, _indices;
    private int _count;

    public FarthestCandidates(int capacity)
    {
        _values = new int[Math.Max(1, capacity)];
        _indices = new int[_values.Length];
    }

    /// <summary>A point must be farther than this to be kept: -1 until the heap is full, then the L-th kept distance.</summary>
    public int Threshold { get; private set; } = -1;

    public void Clear()
    {
        _count = 0;
        Threshold = -1;
    }

    /// <summary>Offers points first..first+7 with squared distances <paramref name="minDist"/> (one per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Offer(Vector256<int> minDist, int first)
    {
        if (!Vector256.GreaterThanAny(minDist, Vector256.Create(Threshold))) return;
        for (int lane = 0; lane < 8; lane++) Offer(minDist[lane], first + lane);
    }

    public void Offer(int value, int index)
    {
        if (value <= Threshold) return;
        if (_count < _values.Length)
        {
            (_values[_count], _indices[_count]) = (value, index);
            SiftUp(_count++);
        }
        else
        {
            (_values[0], _indices[0]) = (value, index);
            SiftDown(0);
        }
        if (_count == _values.Length) Threshold = _values[0];
    }

    /// <summary>
    /// The farthest <paramref name="capacity"/> points over all <paramref name="parts"/>, best first, into
    /// <paramref name="values"/> and <paramref name="indices"/>; returns how many there are.
    /// </summary>
    public static int Merge(IReadOnlyList<FarthestCandidates> parts, int capacity, int[] values, int[] indices)
    {
        var all = new List<(int Value, int Index)>();
        foreach (var part in parts)
            for (int i = 0; i < part._count; i++) all.Add((part._values[i], part._indices[i]));
        all.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : a.Index.CompareTo(b.Index));
        int count = Math.Min(capacity, all.Count);
        for (int i = 0; i < count; i++) (values[i], indices[i]) = all[i];
        return count;
    }

    // The heap's order: a is worse than b (nearer, or as near with a higher index).
    private bool Worse(int a, int b) => _values[a] < _values[b] || (_values[a] == _values[b] && _indices[a] > _indices[b]);

    private void Swap(int a, int b)
    {
        (_values[a], _values[b]) = (_values[b], _values[a]);
        (_indices[a], _indices[b]) = (_indices[b], _indices[a]);
    }

    private void SiftUp(int i)
    {
        while (i > 0 && Worse(i, (i - 1) / 2))
        {
            Swap(i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            int worst = i, l = 2 * i + 1, r = l + 1;
            if (l < _count && Worse(l, worst)) worst = l;
            if (r < _count && Worse(r, worst)) worst = r;
            if (worst == i) return;
            Swap(i, worst);
            i = worst;
        }
    }
}
