using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgePatchCore.Coreset;

/// <summary>The farthest point of a range, eight lanes at a time; strict comparisons keep each lane's first maximum.</summary>
internal struct FarthestTracker(int start)
{
    private Vector256<int> _value = Vector256.Create(-1);
    private Vector256<int> _index = Vector256<int>.Zero;
    private Vector256<int> _position = Vector256.Create(start) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Vector256<int> minDist)
    {
        var greater = Vector256.GreaterThan(minDist, _value);
        _value = Vector256.ConditionalSelect(greater, minDist, _value);
        _index = Vector256.ConditionalSelect(greater, _position, _index);
        _position += Vector256.Create(8);
    }

    public readonly (int Value, int Index) Result()
    {
        int best = -1, arg = -1;
        for (int lane = 0; lane < 8; lane++)
        {
            int v = _value[lane], i = _index[lane];
            if (v > best || (v == best && i < arg)) { best = v; arg = i; }
        }
        return (best, arg);
    }
}
