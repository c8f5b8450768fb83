using System.Numerics.Tensors;

namespace EdgePatchCore.Imaging;

/// <summary>Single-channel float resampling and smoothing used by the anomaly map and the mean image.</summary>
public static class Resampling
{
    /// <summary>
    /// Bilinear resize with half-pixel centres (PyTorch's interpolate, align_corners=False, no antialias).
    /// </summary>
    public static void ResizeBilinear(ReadOnlySpan<float> src, int srcW, int srcH, Span<float> dst, int dstW, int dstH)
    {
        float sx = (float)srcW / dstW, sy = (float)srcH / dstH;
        for (int y = 0; y < dstH; y++)
        {
            float fy = Math.Max((y + 0.5f) * sy - 0.5f, 0f);
            int y0 = Math.Min((int)fy, srcH - 1);
            int y1 = Math.Min(y0 + 1, srcH - 1);
            float wy = fy - y0;
            var row0 = src.Slice(y0 * srcW, srcW);
            var row1 = src.Slice(y1 * srcW, srcW);
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
    /// Each pass adds one kernel tap at a time to whole rows (SIMD), in the same order as a per-pixel sum.
    /// </summary>
    public static void GaussianBlur(Span<float> image, int w, int h, ReadOnlySpan<float> kernel, Span<float> scratch)
    {
        int r = kernel.Length / 2;
        Span<float> padded = w + 2 * r <= 4096 ? stackalloc float[w + 2 * r] : new float[w + 2 * r];
        for (int y = 0; y < h; y++)
        {
            var row = image.Slice(y * w, w);
            for (int i = 0; i < padded.Length; i++) padded[i] = row[Reflect(i - r, w)];
            var outRow = scratch.Slice(y * w, w);
            outRow.Clear();
            for (int k = 0; k < kernel.Length; k++) TensorPrimitives.MultiplyAdd(padded.Slice(k, w), kernel[k], outRow, outRow);
        }
        for (int y = 0; y < h; y++)
        {
            var outRow = image.Slice(y * w, w);
            outRow.Clear();
            for (int k = -r; k <= r; k++)
                TensorPrimitives.MultiplyAdd(scratch.Slice(Reflect(y + k, h) * w, w), kernel[k + r], outRow, outRow);
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
