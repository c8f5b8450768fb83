using EdgePatchCore.Diagnostics;
using EdgePatchCore.Scoring;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Training;

/// <summary>The Eq. 7 neighbour table: the b nearest bank rows of every bank row, the row itself first.</summary>
public static class NeighbourTable
{
    /// <summary>
    /// The table of a whole bank. <paramref name="bank"/>: rows x dims floats, row-major.
    /// Returns rows x b indices.
    /// </summary>
    public static int[] Build(float[] bank, int rows, int dims, int b, ExecutionDevice device, IProgress<StageProgress>? progress)
    {
        using var knn = BankSearches.Create(bank, rows, dims, device);
        var table = new int[rows * b];
        Search(knn, bank.AsSpan(0, rows * dims), rows, dims, b, table, progress);
        for (int r = 0; r < rows; r++) ImageScoreReweighting.SelfFirst(table.AsSpan(r * b, b), r);
        return table;
    }

    /// <summary>The b nearest rows of <paramref name="knn"/>'s bank for each of <paramref name="count"/> queries (count x dims) into <paramref
    /// name="indices"/> (count x b).</summary>
    public static void Search(NearestNeighbourSearch knn, ReadOnlySpan<float> queries, int count, int dims, int b, Span<int> indices,
        IProgress<StageProgress>? progress,
                              Span<float> distances = default)
    {
        const int step = 4096;
        var scratch = distances.IsEmpty ? new float[Math.Min(step, count) * b] : null;
        for (int start = 0; start < count; start += step)
        {
            int n = Math.Min(step, count - start);
            var d = scratch is null ? distances.Slice(start * b, n * b) : scratch.AsSpan(0, n * b);
            knn.Search(queries.Slice(start * dims, n * dims), n, b, d, indices.Slice(start * b, n * b));
            progress?.Report(new StageProgress("neighbour table", start + n, count));
        }
    }
}
