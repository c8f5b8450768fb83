using System.Runtime.InteropServices;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// An inverted file over the memory bank for the bounded search (docs/design.md, "Bounded search"): k-means cells,
/// every bank row in the cell of its nearest centroid. A patch probes the rows of its nearest cells for an upper
/// bound on its nearest-neighbour distance; the bound's correctness does not depend on how good the cells are,
/// only the amount of work does.
/// </summary>
[MessagePackObject]
public sealed record BankCells
{
    /// <summary>C: the number of cells.</summary>
    [Key(0)] public required int Centers { get; init; }
    /// <summary>The bank rows grouped by cell: rows x int32, little-endian (a permutation of 0..rows-1).</summary>
    [Key(1)] public required byte[] Members { get; init; }
    /// <summary>Where each cell's rows start in <see cref="Members"/>: (C + 1) x int32, little-endian; the last is the row count.</summary>
    [Key(2)] public required byte[] Starts { get; init; }
    /// <summary>The cells' centroids: C x D float32, little-endian.</summary>
    [Key(3)] public required byte[] Centroids { get; init; }

    /// <summary>
    /// C for a bank of <paramref name="rows"/> rows: about 4 sqrt(rows) cells of about sqrt(rows) / 4 rows each. The centroid
    /// search runs as a GEMM, the probe row by row, so fewer rows a cell than cells pays.
    /// </summary>
    public static int DefaultCenters(int rows) => Math.Clamp((int)Math.Round(4 * Math.Sqrt(rows)), 1, Math.Max(1, rows));

    /// <param name="cellOfRow">rows entries, each the cell (0..centers-1) of that bank row</param>
    /// <param name="centroids">centers x D</param>
    public static BankCells FromAssignment(ReadOnlySpan<int> cellOfRow, int centers, float[] centroids)
    {
        var starts = new int[centers + 1];
        foreach (int c in cellOfRow) starts[c + 1]++;
        for (int c = 0; c < centers; c++) starts[c + 1] += starts[c];
        var next = starts[..centers];
        var members = new int[cellOfRow.Length];
        for (int r = 0; r < cellOfRow.Length; r++) members[next[cellOfRow[r]]++] = r;
        return new BankCells
        {
            Centers = centers,
            Members = MemoryMarshal.AsBytes(members.AsSpan()).ToArray(),
            Starts = MemoryMarshal.AsBytes(starts.AsSpan()).ToArray(),
            Centroids = MemoryMarshal.AsBytes(centroids.AsSpan()).ToArray(),
        };
    }

    public int[] MemberRows() => MemoryMarshal.Cast<byte, int>(Members).ToArray();
    public int[] CellStarts() => MemoryMarshal.Cast<byte, int>(Starts).ToArray();
    public float[] CentroidRows() => MemoryMarshal.Cast<byte, float>(Centroids).ToArray();

    /// <summary>Sizes of the largest cell and the mean cell, for `trainer inspect`.</summary>
    public (int Largest, double Mean) CellSizes()
    {
        var starts = MemoryMarshal.Cast<byte, int>(Starts);
        int largest = 0;
        for (int c = 0; c < Centers; c++) largest = Math.Max(largest, starts[c + 1] - starts[c]);
        return (largest, (double)starts[Centers] / Centers);
    }

    /// <summary>Throws when the index does not describe a partition of a bank of <paramref name="rows"/> x <paramref name="columns"/>.</summary>
    public void Validate(int rows, int columns)
    {
        if (Centers < 1 || Centers > rows) throw new ArtifactException($"cell index has {Centers} centres for {rows} bank rows");
        if (Centroids.LongLength != (long)Centers * columns * 4)
            throw new ArtifactException($"cell index holds {Centroids.LongLength} bytes of centroids, expected {Centers} x {columns} x 4");
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(MemoryMarshal.Cast<byte, float>(Centroids)))
            throw new ArtifactException("cell index holds centroids that are not finite numbers");
        if (Members.LongLength != (long)rows * 4 || Starts.LongLength != ((long)Centers + 1) * 4)
            throw new ArtifactException($"cell index holds {Members.LongLength} + {Starts.LongLength} bytes for {rows} rows and {Centers} cells");
        var starts = MemoryMarshal.Cast<byte, int>(Starts);
        if (starts[0] != 0 || starts[Centers] != rows) throw new ArtifactException("cell index does not cover the bank");
        for (int c = 0; c < Centers; c++)
            if (starts[c + 1] < starts[c]) throw new ArtifactException("cell index has a cell of negative size");
        var seen = new bool[rows];
        foreach (int r in MemoryMarshal.Cast<byte, int>(Members))
        {
            if ((uint)r >= (uint)rows || seen[r]) throw new ArtifactException($"cell index lists row {r} twice or outside the bank");
            seen[r] = true;
        }
    }
}
