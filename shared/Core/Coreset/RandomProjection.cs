using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgePatchCore.Coreset;

/// <summary>
/// A fixed-seed Gaussian random projection (Johnson-Lindenstrauss) from D to d dimensions:
/// distances are approximately preserved, so greedy selection runs on d-dimensional rows.
/// </summary>
public sealed class RandomProjection
{
    private readonly float[] _matrix; // InputDimensions x OutputDimensions, row-major
    public int InputDimensions { get; }
    public int OutputDimensions { get; }

    private RandomProjection(float[] matrix, int inputDimensions, int outputDimensions)
    {
        _matrix = matrix;
        InputDimensions = inputDimensions;
        OutputDimensions = outputDimensions;
    }

    /// <summary>The matrix, D x d, row-major.</summary>
    public ReadOnlySpan<float> Matrix => _matrix;

    /// <summary>A projection from its matrix (D x d, row-major), as stored in an artifact's selection space.</summary>
    public static RandomProjection FromMatrix(float[] matrix, int inputDimensions, int outputDimensions) =>
        matrix.Length == inputDimensions * outputDimensions ? new(matrix, inputDimensions, outputDimensions)
        : throw new ArgumentException($"a {inputDimensions} x {outputDimensions} projection needs {inputDimensions * outputDimensions} values, not " +
            $"{matrix.Length}");

    public RandomProjection(int inputDimensions, int outputDimensions, int seed)
    {
        InputDimensions = inputDimensions;
        OutputDimensions = outputDimensions;
        _matrix = new float[inputDimensions * outputDimensions];
        var random = new Random(seed);
        float scale = 1f / MathF.Sqrt(outputDimensions);
        for (int i = 0; i < _matrix.Length; i++)
        {
            // Box-Muller; one normal per pair keeps the stream simple and reproducible.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            _matrix[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)) * scale;
        }
    }

    /// <summary>
    /// The same projection followed by a rotation onto the principal axes of the sample's projections, in
    /// decreasing variance. A rotation keeps every distance, so it is still a random projection for the coreset;
    /// it puts most of each distance into the first dimensions, which is what lets the greedy selection decide most
    /// points from their first 32 values (<see cref="GreedyCoreset"/>).
    /// </summary>
    public RandomProjection AlignedToPrincipalAxes(ReadOnlySpan<float> sample, int count)
    {
        int d = OutputDimensions, n = InputDimensions;
        if (count < 2) return this;
        var projected = new float[count * d];
        Project(sample, count, projected);
        var axes = PrincipalAxes.Of(projected, count, d);
        var matrix = new float[_matrix.Length];
        var row = new double[d];
        for (int i = 0; i < n; i++)
        {
            Array.Clear(row);
            for (int j = 0; j < d; j++)
            {
                double m = _matrix[i * d + j];
                for (int k = 0; k < d; k++) row[k] += m * axes[j * d + k];
            }
            for (int k = 0; k < d; k++) matrix[i * d + k] = (float)row[k];
        }
        return new RandomProjection(matrix, n, d);
    }

    /// <summary>Projects <paramref name="count"/> rows of D floats into rows of d floats.</summary>
    public void Project(ReadOnlySpan<float> rows, int count, Span<float> output)
    {
        int d = OutputDimensions, n = InputDimensions;
        var m = _matrix.AsSpan();
        for (int r = 0; r < count; r++)
        {
            var src = rows.Slice(r * n, n);
            var dst = output.Slice(r * d, d);
            dst.Clear();
            var dv = MemoryMarshal.Cast<float, Vector<float>>(dst);
            int vectorised = dv.Length * Vector<float>.Count;
            for (int k = 0; k < n; k++)
            {
                float x = src[k];
                if (x == 0f) continue; // ReLU features are often zero
                var mrow = m.Slice(k * d, d);
                var mv = MemoryMarshal.Cast<float, Vector<float>>(mrow);
                var xv = new Vector<float>(x);
                for (int j = 0; j < dv.Length; j++) dv[j] += xv * mv[j];
                for (int j = vectorised; j < d; j++) dst[j] += x * mrow[j];
            }
        }
    }
}
