using System.Numerics.Tensors;
using EdgePatchCore.Coreset;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Embedding;

/// <summary>
/// The projected patches of a build while the backbone streams them: float16, in chunks of 32 MB, because the int8 scale
/// (<see cref="QuantizedRows"/>) needs the largest value of all of them first. <see cref="ToInt8"/> then quantizes chunk by chunk
/// and lets each chunk go as soon as it is done, so the int8 rows (half the bytes) never sit beside all of the float16 ones: the
/// peak is the float16 rows, not the float16 and the int8 rows together.
/// </summary>
internal sealed class ProjectionStaging(int dimensions)
{
    private const int ChunkValues = 1 << 24; // 16 Mi float16 values, 32 MB
    private readonly List<Half[]?> _chunks = [];
    private long _values;

    public long Rows => _values / dimensions;

    /// <summary>Appends rows x dimensions projected values (clamped to float16's range).</summary>
    public void Append(Span<float> projected)
    {
        TensorPrimitives.Clamp(projected, -65504f, 65504f, projected); // stay finite in float16
        while (projected.Length > 0)
        {
            int at = (int)(_values % ChunkValues);
            if (at == 0) _chunks.Add(new Half[ChunkValues]);
            int n = Math.Min(projected.Length, ChunkValues - at);
            TensorPrimitives.ConvertToHalf(projected[..n], _chunks[^1].AsSpan(at, n));
            projected = projected[n..];
            _values += n;
        }
    }

    /// <summary>The rows as int8 with the scale max|x| / 127 (what <see cref="QuantizedRows.Quantize(ReadOnlySpan{Half}, int, int)"/>
    /// gives for them); the staging is empty afterwards.</summary>
    public QuantizedRows ToInt8()
    {
        float largest = 0;
        for (int c = 0; c < _chunks.Count; c++) largest = Math.Max(largest, QuantizedRows.LargestMagnitude(Chunk(c)));
        float scale = QuantizedRows.ScaleFor(largest);
        var data = new sbyte[_values];
        for (int c = 0; c < _chunks.Count; c++)
        {
            QuantizedRows.QuantizeValues(Chunk(c), scale, data.AsSpan((int)((long)c * ChunkValues)));
            _chunks[c] = null;
            if (c % 8 == 7) HeapRelease.Now(); // every 256 MB quantized, the float16 chunks behind go back to the system
        }
        var rows = new QuantizedRows(data, (int)Rows, dimensions, scale);
        _chunks.Clear();
        _values = 0;
        return rows;
    }

    private ReadOnlySpan<Half> Chunk(int c) => _chunks[c].AsSpan(0, (int)Math.Min(ChunkValues, _values - (long)c * ChunkValues));
}
