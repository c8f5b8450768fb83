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
