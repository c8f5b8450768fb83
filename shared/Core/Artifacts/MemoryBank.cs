using System.Runtime.InteropServices;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>The coreset memory bank (rows x columns, little-endian) and its Eq. 7 neighbour table.</summary>
[MessagePackObject]
public sealed record MemoryBank
{
    [Key(0)] public required int Rows { get; init; }
    [Key(1)] public required int Columns { get; init; }
    [Key(2)] public BankElementType ElementType { get; init; } = BankElementType.Float32;
    [Key(3)] public required byte[] Data { get; init; }
    /// <summary>b: entries per row of the neighbour table; column 0 is the entry itself.</summary>
    [Key(4)] public required int NeighbourCount { get; init; }
    /// <summary>Rows x b int32, little-endian.</summary>
    [Key(5)] public required byte[] Neighbours { get; init; }
    /// <summary>The bounded search's cell index; null: the bank is searched exhaustively.</summary>
    [Key(6)] public BankCells? Cells { get; init; }

    public static MemoryBank FromFloats(float[] rows, int count, int columns, int[] neighbours, int neighbourCount) => new()
    {
        Rows = count,
        Columns = columns,
        Data = MemoryMarshal.AsBytes(rows.AsSpan(0, count * columns)).ToArray(),
        NeighbourCount = neighbourCount,
        Neighbours = MemoryMarshal.AsBytes(neighbours.AsSpan()).ToArray(),
    };

    public float[] ToFloats() => MemoryMarshal.Cast<byte, float>(Data).ToArray();
    public int[] NeighbourIndices() => MemoryMarshal.Cast<byte, int>(Neighbours).ToArray();

    /// <summary>Throws when the sizes do not add up or an index points outside the bank.</summary>
    public void Validate()
    {
        if (!BitConverter.IsLittleEndian) throw new ArtifactException("big-endian machines are not supported");
        if (Rows <= 0 || Columns <= 0) throw new ArtifactException($"bank has {Rows} x {Columns} entries");
        if (ElementType != BankElementType.Float32) throw new ArtifactException($"bank element type {ElementType} is not supported");
        if (Data.LongLength != (long)Rows * Columns * 4)
            throw new ArtifactException($"bank holds {Data.LongLength} bytes, expected {Rows} x {Columns} x 4");
        if (NeighbourCount < 1 || NeighbourCount > Math.Min(Rows, ArtifactFile.MaxNeighbourCount))
            throw new ArtifactException($"neighbour table has b = {NeighbourCount} for {Rows} rows " +
                $"(1..{Math.Min(Rows, ArtifactFile.MaxNeighbourCount)})");
        if (Neighbours.LongLength != (long)Rows * NeighbourCount * 4)
            throw new ArtifactException($"neighbour table holds {Neighbours.LongLength} bytes, expected {Rows} x {NeighbourCount} x 4");
        foreach (var i in MemoryMarshal.Cast<byte, int>(Neighbours))
            if ((uint)i >= (uint)Rows) throw new ArtifactException($"neighbour table refers to row {i} of {Rows}");
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(MemoryMarshal.Cast<byte, float>(Data)))
            throw new ArtifactException("bank holds values that are not finite numbers");
        Cells?.Validate(Rows, Columns);
    }
}
