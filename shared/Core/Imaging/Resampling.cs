using System.Numerics.Tensors;

namespace EdgePatchCore.Imaging;

/// <summary>Single-channel float resampling and smoothing used by the anomaly map and the mean image.</summary>
public static class Resampling
{
    /// <summary>
    /// Bilinear resize with half-pixel centres (PyTorch's interpolate, align_corners=False, no antialias). A megapixel target
    /// is filled in bands of rows on every core; each row depends on the source alone, so the values are those of one band.
    /// </summary>
    public static void ResizeBilinear(ReadOnlySpan<float> src, int srcW, int srcH, Span<float> dst, int dstW, int dstH) =>
        ResizeBilinear(src, srcW, srcH, dst, dstW, dstH, (long)dstW * dstH >= ParallelPixels ? Environment.ProcessorCount : 1);

    /// <summary><see cref="ResizeBilinear(ReadOnlySpan{float}, int, int, Span{float}, int, int)"/> in a given number of bands.</summary>
    internal static unsafe void ResizeBilinear(ReadOnlySpan<float> src, int srcW, int srcH, Span<float> dst, int dstW, int dstH, int bands)
    {
        fixed (float* source = src, target = dst)
        {
            var (s, t) = ((nint)source, (nint)target);
            InBands(dstH, bands, (y0, y1) => ResizeRows((float*)s, srcW, srcH, (float*)t, dstW, dstH, y0, y1));
        }
    }

    /// <summary>Rows [y0, y1) of <see cref="ResizeBilinear"/>.</summary>
    private static unsafe void ResizeRows(float* source, int srcW, int srcH, float* target, int dstW, int dstH, int y0, int y1)
    {
        var src = new ReadOnlySpan<float>(source, srcW * srcH);
        var dst = new Span<float>(target, dstW * dstH);
        float sx = (float)srcW / dstW, sy = (float)srcH / dstH;
        for (int y = y0; y < y1; y++)
        {
            float fy = Math.Max((y + 0.5f) * sy - 0.5f, 0f);
            int r0 = Math.Min((int)fy, srcH - 1);
            int r1 = Math.Min(r0 + 1, srcH - 1);
            float wy = fy - r0;
            var row0 = src.Slice(r0 * srcW, srcW);
            var row1 = src.Slice(r1 * srcW, srcW);
            var outRow = dst.Slice(y * dstW, dstW);
            for (int x = 0; x < dstW; x++)
            {
                float fx = Math.Max((x + 0.5f) * sx - 0.5f, 0f);
                int x0 = Math.Min((int)fx, srcW - 1);
                int x1 = Math.Min(x0 + 1, srcW - 1);
                float wx = fx - x0;
                float top = row0[x0] + (row0[x1] - row0[x0]) * wx;
                float bottom = row1[x0] + (row1[x1] - row1[x0]) * wx;
                outRow[x] = top + (bottom - top) * wy;
            }
        }
    }

    /// <summary>Normalised 1-D Gaussian kernel of radius ceil(4 sigma) (as scipy and kornia truncate).</summary>
    public static float[] GaussianKernel(float sigma)
    {
        int radius = Math.Max(1, (int)Math.Ceiling(4 * sigma));
        var k = new float[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += k[i + radius] = (float)Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] = (float)(k[i] / sum);
        return k;
    }

    /// <summary>
    /// Separable Gaussian blur in place, reflecting at the borders; <paramref name="scratch"/> is w x h.
    /// Each pass adds one kernel tap at a time to whole rows (SIMD), in the same order as a per-pixel sum. A megapixel map
    /// (a tiled frame's) is blurred in bands of rows on every core: each output row depends on the input rows alone, so the
    /// bands give the same values as one band.
    /// </summary>
    public static void GaussianBlur(Span<float> image, int w, int h, ReadOnlySpan<float> kernel, Span<float> scratch) =>
        GaussianBlur(image, w, h, kernel, scratch, (long)w * h >= ParallelPixels ? Environment.ProcessorCount : 1);

    /// <summary><see cref="GaussianBlur(Span{float}, int, int, ReadOnlySpan{float}, Span{float})"/> in a given number of bands.</summary>
    internal static unsafe void GaussianBlur(Span<float> image, int w, int h, ReadOnlySpan<float> kernel, Span<float> scratch, int bands)
    {
        fixed (float* imagePointer = image, scratchPointer = scratch, kernelPointer = kernel)
        {
            var (i, s, k) = ((nint)imagePointer, (nint)scratchPointer, (nint)kernelPointer);
            int taps = kernel.Length;
            InBands(h, bands, (y0, y1) => BlurRows((float*)i, (float*)s, w, h, (float*)k, taps, y0, y1));
            InBands(h, bands, (y0, y1) => BlurColumns((float*)s, (float*)i, w, h, (float*)k, taps, y0, y1));
        }
    }

    /// <summary>Pixels from which a resize or a blur runs on every core (a 512 x 512 map).</summary>
    private const long ParallelPixels = 1 << 18;

    /// <summary>Runs <paramref name="rows"/>(y0, y1) over the rows [0, h) in at most <paramref name="bands"/> bands, in parallel when
    /// more than one.</summary>
    private static void InBands(int h, int bands, Action<int, int> rows)
    {
        bands = Math.Clamp(bands, 1, Math.Max(1, h));
        if (bands == 1) rows(0, h);
        else Parallel.For(0, bands, b => rows(h * b / bands, h * (b + 1) / bands));
    }

    /// <summary>The horizontal pass for rows [y0, y1): <paramref name="source"/> into <paramref name="target"/> (both w x h).</summary>
    private static unsafe void BlurRows(float* source, float* target, int w, int h, float* kernelPointer, int taps, int y0, int y1)
    {
        var kernel = new ReadOnlySpan<float>(kernelPointer, taps);
        int r = taps / 2;
        Span<float> padded = w + 2 * r <= 4096 ? stackalloc float[w + 2 * r] : new float[w + 2 * r];
        for (int y = y0; y < y1; y++)
        {
            var row = new ReadOnlySpan<float>(source + (long)y * w, w);
            for (int i = 0; i < padded.Length; i++) padded[i] = row[Reflect(i - r, w)];
            var outRow = new Span<float>(target + (long)y * w, w);
            outRow.Clear();
            for (int k = 0; k < taps; k++) TensorPrimitives.MultiplyAdd(padded.Slice(k, w), kernel[k], outRow, outRow);
        }
    }

    /// <summary>The vertical pass for output rows [y0, y1): <paramref name="source"/> into <paramref name="target"/> (both w x h).</summary>
    private static unsafe void BlurColumns(float* source, float* target, int w, int h, float* kernelPointer, int taps, int y0, int y1)
    {
        var kernel = new ReadOnlySpan<float>(kernelPointer, taps);
        int r = taps / 2;
        for (int y = y0; y < y1; y++)
        {
            var outRow = new Span<float>(target + (long)y * w, w);
            outRow.Clear();
            for (int k = -r; k <= r; k++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(source + (long)Reflect(y + k, h) * w, w), kernel[k + r], outRow, outRow);
        }
    }

    /// <summary>Reflect-101 style ("d c b | a b c d | c b a") index mirroring, as kornia's 'reflect'.</summary>
    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
        return i;
    }
}
