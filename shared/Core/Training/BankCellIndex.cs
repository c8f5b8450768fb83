using System.Numerics.Tensors;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Search;

namespace EdgePatchCore.Training;

/// <summary>Builds the bounded search's cell index (<see cref="BankCells"/>): k-means cells over the bank.</summary>
public static class BankCellIndex
{
    /// <summary>Lloyd iterations: the cells only steer how much the bounded search reads, never what it finds.</summary>
    public const int DefaultIterations = 8;

    /// <summary>
    /// Cells of <paramref name="bank"/> (rows x dims, row-major, greedy selection order): k-means with
    /// <paramref name="centers"/> centroids (default <see cref="BankCells.DefaultCenters"/>) started from evenly spaced
    /// bank rows (the first rows of a greedy selection are its outliers; evenly spaced ones follow the bank's density),
    /// assignments by an exact float32 search; empty cells are dropped. Deterministic for the same bank.
    /// </summary>
    public static BankCells Build(float[] bank, int rows, int dims, ExecutionDevice device, int? centers = null,
        int iterations = DefaultIterations, IProgress<StageProgress>? progress = null)
    {
        int c = Math.Clamp(centers ?? BankCells.DefaultCenters(rows), 1, rows);
        var centroids = new float[(long)c * dims];
        for (int k = 0; k < c; k++)
            bank.AsSpan((int)((long)k * rows / c) * dims, dims).CopyTo(centroids.AsSpan(k * dims, dims));
        var cellOfRow = new int[rows];
        var counts = new int[c];
        for (int it = 0; ; it++)
        {
            Assign(bank, rows, dims, centroids, c, device, cellOfRow);
            progress?.Report(new StageProgress("cell index", it + 1, iterations + 1));
            if (it == iterations) break;
            // Each centroid moves to the mean of its rows; an empty cell keeps its centroid.
            var sums = new float[(long)c * dims];
            Array.Clear(counts);
            for (int r = 0; r < rows; r++)
            {
                int k = cellOfRow[r];
                counts[k]++;
                TensorPrimitives.Add(sums.AsSpan(k * dims, dims), bank.AsSpan(r * dims, dims), sums.AsSpan(k * dims, dims));
            }
            for (int k = 0; k < c; k++)
                if (counts[k] > 0) TensorPrimitives.Multiply(sums.AsSpan(k * dims, dims), 1f / counts[k], centroids.AsSpan(k * dims, dims));
        }
        // Drop the cells no row chose.
        Array.Clear(counts);
        foreach (int k in cellOfRow) counts[k]++;
        var renumber = new int[c];
        int kept = 0;
        for (int k = 0; k < c; k++)
        {
            if (counts[k] == 0) continue;
            centroids.AsSpan(k * dims, dims).CopyTo(centroids.AsSpan(kept * dims, dims));
            renumber[k] = kept++;
        }
        for (int r = 0; r < rows; r++) cellOfRow[r] = renumber[cellOfRow[r]];
        return BankCells.FromAssignment(cellOfRow, kept, centroids.AsSpan(0, kept * dims).ToArray());
    }

    /// <summary>The nearest of the c centroids (c x dims) of every bank row, into <paramref name="cellOfRow"/>.</summary>
    private static void Assign(float[] bank, int rows, int dims, float[] centroids, int c, ExecutionDevice device, int[] cellOfRow)
    {
        using var knn = BankSearches.Create(centroids.AsSpan(0, c * dims).ToArray(), c, dims, device, BankPrecision.Float32);
        const int step = 4096;
        var distances = new float[Math.Min(step, rows)];
        for (int start = 0; start < rows; start += step)
        {
            int n = Math.Min(step, rows - start);
            knn.Search(bank.AsSpan(start * dims, n * dims), n, 1, distances, cellOfRow.AsSpan(start, n));
        }
    }
}
