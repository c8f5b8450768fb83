using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Draws an anomaly map over the network-input view of a frame with a jet colour scale (full red at
/// 1.5 x threshold), for people looking at why a frame was judged defective.
/// </summary>
public static class HeatmapRenderer
{
    /// <summary>Returns a new image at the input size: the resized frame blended half and half with the map.</summary>
    public static Image<Rgb24> Render(Image<Rgb24> frame, InputSpec spec, ImageScore score, float threshold, string name = "image")
    {
        var resized = ImageLoader.Resize(frame, spec, name);
        float scale = threshold > 0 && float.IsFinite(threshold) ? 1f / (1.5f * threshold) : 1f / Math.Max(1e-6f, score.AnomalyMap.Max());
        var map = score.AnomalyMap;
        int w = score.MapWidth;
        resized.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    float v = Math.Clamp(map[y * w + x] * scale, 0f, 1f);
                    var (r, g, b) = Jet(v);
                    row[x] = new Rgb24((byte)(0.5f * row[x].R + 0.5f * r), (byte)(0.5f * row[x].G + 0.5f * g), (byte)(0.5f * row[x].B + 0.5f * b));
                }
            }
        });
        return resized;
    }

    private static (float R, float G, float B) Jet(float v)
    {
        static float C(float x) => 255f * Math.Clamp(1.5f - Math.Abs(x), 0f, 1f);
        return (C(4 * v - 3), C(4 * v - 2), C(4 * v - 1));
    }
}
