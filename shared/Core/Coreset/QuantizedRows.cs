using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgePatchCore.Coreset;

/// <summary>
/// The projected training patches as the coreset sees them: int8 rows (values -127..127) with one
/// common scale, so a row of 128 dimensions is 128 bytes.
///
/// Why int8: with |values| &lt;= 127 and at most 256 dimensions, every squared distance is an integer
/// below 2^24, so it is computed exactly by integer SIMD on the CPU and exactly by float32 arithmetic
/// in any summation order on a GPU. Plain, pruned and GPU selection therefore see bit-identical
/// distances and pick identical indices, and each greedy step streams half the bytes of float16.
/// The rounding (a step of max|x|/127) is far below the distortion of the random projection itself.
/// </summary>
public sealed class QuantizedRows
{
    public const int MaxDimensions = 256; // keeps every squared distance below 2^24 (exact in float32)

    public sbyte[] Data { get; }
    public int Count { get; }
    public int Dimensions { get; }
    /// <summary>One unit of the int8 values in the projection's units.</summary>
    public float Scale { get; }

    public QuantizedRows(sbyte[] data, int count, int dimensions, float scale)
    {
        if (dimensions < 1 || dimensions > MaxDimensions) throw new ArgumentOutOfRangeException(nameof(dimensions), $"1..{MaxDimensions} dimensions");
        if (data.LongLength < (long)count * dimensions) throw new ArgumentException("data shorter than count x dimensions");
        if (data.AsSpan(0, count * dimensions).Contains(sbyte.MinValue)) throw new ArgumentException("int8 rows must lie in -127..127");
        Data = data;
        Count = count;
        Dimensions = dimensions;
        Scale = scale;
    }

    public ReadOnlySpan<sbyte> Row(int index) => Data.AsSpan((int)((long)index * Dimensions), Dimensions);

    /// <summary>A copy of the given rows, in that order, with the same scale (so distances compare across both).</summary>
    public QuantizedRows Subset(IReadOnlyList<int> indices)
    {
        var data = new sbyte[(long)indices.Count * Dimensions];
        for (int i = 0; i < indices.Count; i++) Row(indices[i]).CopyTo(data.AsSpan(i * Dimensions, Dimensions));
        return new QuantizedRows(data, indices.Count, Dimensions, Scale);
    }

    /// <summary>Quantizes rows with the scale max|x| / 127 (round to nearest).</summary>
    public static QuantizedRows Quantize(ReadOnlySpan<Half> rows, int count, int dimensions) =>
        Quantize(rows, count, dimensions, ScaleFor(LargestMagnitude(rows.Slice(0, count * dimensions))));

    /// <summary>
    /// Quantizes rows with a given scale (round to nearest, clamped to -127..127): the rows added by `trainer
    /// extend` in the space of the model's own selection (values beyond its largest become +-127).
    /// </summary>
    public static QuantizedRows Quantize(ReadOnlySpan<Half> rows, int count, int dimensions, float scale)
    {
        var data = new sbyte[count * dimensions];
        QuantizeValues(rows.Slice(0, data.Length), scale, data);
        return new QuantizedRows(data, count, dimensions, scale);
    }

    /// <summary>The scale that maps the largest magnitude to 127 (1 when it is 0 or not finite).</summary>
    internal static float ScaleFor(float largestMagnitude) =>
        largestMagnitude > 0 && float.IsFinite(largestMagnitude) ? largestMagnitude / 127f : 1f;

    /// <summary>max |x| over <paramref name="values"/>.</summary>
    internal static float LargestMagnitude(ReadOnlySpan<Half> values)
    {
        Span<float> block = stackalloc float[4096];
        float maxAbs = 0;
        for (int start = 0; start < values.Length; start += block.Length)
        {
            var part = block[..Math.Min(block.Length, values.Length - start)];
            TensorPrimitives.ConvertToSingle(values.Slice(start, part.Length), part);
            maxAbs = Math.Max(maxAbs, Math.Abs(TensorPrimitives.MaxMagnitude(part)));
        }
        return maxAbs;
    }

    /// <summary>destination = clamp(round(values / scale), -127, 127), the one rounding every quantized row gets.</summary>
    internal static void QuantizeValues(ReadOnlySpan<Half> values, float scale, Span<sbyte> destination)
    {
        Span<float> block = stackalloc float[4096];
        float inverse = 1f / scale;
        for (int start = 0; start < values.Length; start += block.Length)
        {
            var part = block[..Math.Min(block.Length, values.Length - start)];
            TensorPrimitives.ConvertToSingle(values.Slice(start, part.Length), part);
            for (int i = 0; i < part.Length; i++)
                destination[start + i] = (sbyte)Math.Clamp(MathF.Round(part[i] * inverse), -127f, 127f);
        }
    }

    private const uint FileMagic = 0x51435045; // "EPCQ"

    /// <summary>Writes the rows to a file (magic, count, dimensions, scale, then the int8 values), for benchmarks.</summary>
    public void Save(string path)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(FileMagic);
        writer.Write(Count);
        writer.Write(Dimensions);
        writer.Write(Scale);
        writer.Write(MemoryMarshal.AsBytes(Data.AsSpan(0, Count * Dimensions)));
    }

    public static QuantizedRows Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length < 16 || reader.ReadUInt32() != FileMagic) throw new InvalidDataException($"{path} is not a saved projection");
        int count = reader.ReadInt32(), dimensions = reader.ReadInt32();
        float scale = reader.ReadSingle();
        if (count < 1 || dimensions < 1 || dimensions > MaxDimensions || stream.Length - 16 != (long)count * dimensions)
            throw new InvalidDataException($"{path}: size does not match {count} rows x {dimensions}");
        var data = new sbyte[count * dimensions];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        return new QuantizedRows(data, count, dimensions, scale);
    }

    /// <summary>A row widened to int16, the form <see cref="SquaredDistance"/> takes for its first argument.</summary>
    public void Widen(int index, Span<short> destination)
    {
        var row = Row(index);
        for (int k = 0; k < row.Length; k++) destination[k] = row[k];
    }

    /// <summary>
    /// Exact sum_k (a_k - b_k)^2 of a widened row and an int8 row. AVX2: sign-extend 16 bytes, subtract,
    /// vpmaddwd squares and adds neighbours into int32 lanes; the sum is exact, so the scalar path is identical.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SquaredDistance(ReadOnlySpan<short> a, ReadOnlySpan<sbyte> b)
    {
        int n = b.Length, i = 0, sum = 0;
        if (Avx2.IsSupported && n >= 16)
        {
            ref short ap = ref MemoryMarshal.GetReference(a);
            ref sbyte bp = ref MemoryMarshal.GetReference(b);
            var acc0 = Vector256<int>.Zero;
            var acc1 = Vector256<int>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                var d0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref bp, (nuint)i)) - Vector256.LoadUnsafe(ref ap, (nuint)i);
                var d1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref bp, (nuint)(i + 16))) - Vector256.LoadUnsafe(ref ap, (nuint)(i + 16));
                acc0 += Avx2.MultiplyAddAdjacent(d0, d0);
                acc1 += Avx2.MultiplyAddAdjacent(d1, d1);
            }
            if (i + 16 <= n)
            {
                var d0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref bp, (nuint)i)) - Vector256.LoadUnsafe(ref ap, (nuint)i);
                acc0 += Avx2.MultiplyAddAdjacent(d0, d0);
                i += 16;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < n; i++)
        {
            int d = b[i] - a[i];
            sum += d * d;
        }
        return sum;
    }
}
