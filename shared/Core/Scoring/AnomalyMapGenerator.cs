using EdgePatchCore.Imaging;

namespace EdgePatchCore.Scoring;

/// <summary>Patch-score grid -> bilinear upsample to the input size -> Gaussian blur (sigma 4 by default).</summary>
public sealed class AnomalyMapGenerator
{
    private readonly float[] _kernel;
    public int Width { get; }
    public int Height { get; }

    public AnomalyMapGenerator(int width, int height, float sigma)
    {
        Width = width;
        Height = height;
        _kernel = sigma > 0 ? Resampling.GaussianKernel(sigma) : [1f];
    }

    public float[] Generate(ReadOnlySpan<float> patchScores, int gridWidth, int gridHeight)
    {
        var map = new float[Width * Height];
        Resampling.ResizeBilinear(patchScores, gridWidth, gridHeight, map, Width, Height);
        if (_kernel.Length > 1)
        {
            var scratch = System.Buffers.ArrayPool<float>.Shared.Rent(map.Length);
            Resampling.GaussianBlur(map, Width, Height, _kernel, scratch);
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }
        return map;
    }
}
