using EdgePatchCore.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Synthetic;

/// <summary>
/// A synthetic megapixel product for tiled inspection: a brushed, machined aluminium sheet with two drilled holes,
/// its top and bottom edges on a dark conveyor, seen by a line camera at native resolution (1600 x 1200 by default).
/// Its defects are small: pits 3 to 10 pixels across, hairline scratches 1 to 2 pixels wide and 20 to 40 long, faint
/// stains 20 to 40 pixels across, burrs of 4 to 16 pixels on an edge. Written in the MVTec AD layout with masks; every
/// image is a pure function of (seed, split, index).
/// </summary>
public sealed class SheetGenerator(SheetOptions options)
{
    public static readonly SheetDefect[] DefectTypes = [SheetDefect.Pit, SheetDefect.Scratch, SheetDefect.Stain, SheetDefect.Burr];

    public static string FolderName(SheetDefect d) => d switch
    {
        SheetDefect.Pit => "pit",
        SheetDefect.Scratch => "scratch",
        SheetDefect.Stain => "stain",
        SheetDefect.Burr => "burr",
        _ => "good",
    };

    /// <summary>Writes the whole dataset under <paramref name="root"/>; returns the number of images.</summary>
    public int Write(string root, IProgress<StageProgress>? progress = null, CancellationToken cancel = default) =>
        MvtecLayoutWriter.Write(root, options.TrainCount, options.TestGoodCount, options.TestPerDefect, DefectTypes, FolderName, Render, progress,
            cancel);

    /// <summary>Renders one image and, for a defect, its mask (255 = defect).</summary>
    public (Image<Rgb24> Image, Image<L8>? Mask) Render(int split, int index, SheetDefect defect)
    {
        var rng = new Random(GasketGenerator.ImageSeed(options.Seed ^ 0x5EE7, split, index));
        int w = options.Width, h = options.Height;
        var grey = new float[w * h];
        var coverage = defect == SheetDefect.None ? null : new float[w * h];

        // The sheet between its top and bottom edges; the conveyor outside.
        float top = 0.075f * h + (float)(rng.NextDouble() * 6 - 3), bottom = 0.925f * h + (float)(rng.NextDouble() * 6 - 3);
        float gain = 0.93f + 0.14f * (float)rng.NextDouble();
        // Brushing: each row has its own streak offset that drifts slowly along x.
        var streak = new float[h];
        var phase = new float[h];
        float walk = 0;
        for (int y = 0; y < h; y++)
        {
            walk = 0.6f * walk + 4f * Gaussian(rng);
            streak[y] = walk;
            phase[y] = (float)(rng.NextDouble() * 2 * Math.PI);
        }
        var holes = new (float X, float Y)[]
        {
            (0.25f * w + (float)(rng.NextDouble() * 6 - 3), 0.5f * h + (float)(rng.NextDouble() * 6 - 3)),
            (0.75f * w + (float)(rng.NextDouble() * 6 - 3), 0.5f * h + (float)(rng.NextDouble() * 6 - 3)),
        };
        float holeRadius = 0.04f * h;
        for (int y = 0; y < h; y++)
        {
            float inside = Math.Clamp(y - top + 0.5f, 0, 1) * Math.Clamp(bottom - y + 0.5f, 0, 1);
            for (int x = 0; x < w; x++)
            {
                float metal = 150 + streak[y] * (1 + 0.35f * MathF.Sin(x / 180f + phase[y])) + 10 * (x - w / 2f) / w;
                foreach (var (hx, hy) in holes)
                {
                    float d = MathF.Sqrt((x - hx) * (x - hx) + (y - hy) * (y - hy));
                    if (d > holeRadius + 8) continue;
                    float chamfer = Math.Clamp(holeRadius + 6 - d, 0, 1) * Math.Clamp(d - holeRadius + 0.5f, 0, 1);
                    float bore = Math.Clamp(holeRadius - d + 0.5f, 0, 1);
                    metal = metal * (1 - chamfer - bore) + 205 * chamfer + 45 * bore;
                }
                grey[y * w + x] = gain * (inside * metal + (1 - inside) * 38) + 2.5f * Gaussian(rng);
            }
        }
        if (defect != SheetDefect.None) Draw(defect, rng, grey, coverage!, w, h, top, bottom, holes, holeRadius, gain);

        var pixels = new Rgb24[w * h];
        for (int i = 0; i < pixels.Length; i++)
        {
            float v = grey[i];
            pixels[i] = new Rgb24(Byte(v * 0.98f), Byte(v), Byte(v * 1.03f + 2)); // a cool metal tint
        }
        var image = Image.LoadPixelData<Rgb24>(pixels, w, h);
        Image<L8>? mask = null;
        if (coverage is not null)
        {
            var m = new L8[w * h];
            for (int i = 0; i < m.Length; i++) m[i] = new L8(coverage[i] >= 0.5f ? (byte)255 : (byte)0);
            mask = Image.LoadPixelData<L8>(m, w, h);
        }
        return (image, mask);
    }

    /// <summary>Draws one defect into <paramref name="grey"/> and its pixel coverage (0..1) into <paramref name="coverage"/>.</summary>
    private void Draw(SheetDefect defect, Random rng, float[] grey, float[] coverage, int w, int h,
                             float top, float bottom, (float X, float Y)[] holes, float holeRadius, float gain)
    {
        // A spot on the sheet, away from its edges and the holes.
        (float X, float Y) Spot(float margin)
        {
            while (true)
            {
                float x = margin + (float)rng.NextDouble() * (w - 2 * margin), y = top + margin
                    + (float)rng.NextDouble() * (bottom - top - 2 * margin);
                if (holes.All(p => MathF.Sqrt((x - p.X) * (x - p.X) + (y - p.Y) * (y - p.Y)) > holeRadius + margin + 10)) return (x, y);
            }
        }
        // Applies f(x, y) -> (coverage, delta) over a box.
        void Paint(float cx, float cy, float radius, Func<float, float, (float Cover, float Delta)> f)
        {
            int x0 = Math.Max(0, (int)(cx - radius - 2)), x1 = Math.Min(w - 1, (int)(cx + radius + 2));
            int y0 = Math.Max(0, (int)(cy - radius - 2)), y1 = Math.Min(h - 1, (int)(cy + radius + 2));
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    var (cover, delta) = f(x, y);
                    grey[y * w + x] += gain * delta;
                    coverage[y * w + x] = Math.Max(coverage[y * w + x], cover);
                }
        }
        switch (defect)
        {
            case SheetDefect.Pit:
            {
                // 3 to 10 pixels across: a dark crater with a faint bright lip.
                var (cx, cy) = Spot(20);
                float r = 1.5f + 3.5f * (float)rng.NextDouble();
                Paint(cx, cy, r + 3, (x, y) =>
                {
                    float d = MathF.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                    float inner = Math.Clamp(r - d + 0.5f, 0, 1), lip = Math.Clamp(r + 2 - d, 0, 1) - inner;
                    return (inner, -55 * inner + 14 * lip);
                });
                break;
            }
            case SheetDefect.Scratch:
            {
                // A hairline: 1 to 2 pixels wide, 20 to 40 long, brighter than the brushing, at any angle.
                var (cx, cy) = Spot(30);
                float length = 20 + 20 * (float)rng.NextDouble(), angle = (float)(rng.NextDouble() * Math.PI);
                float halfWidth = 0.5f + 0.5f * (float)rng.NextDouble();
                float dx = MathF.Cos(angle), dy = MathF.Sin(angle);
                Paint(cx, cy, length / 2 + 2, (x, y) =>
                {
                    float along = (x - cx) * dx + (y - cy) * dy, across = MathF.Abs(-(x - cx) * dy + (y - cy) * dx);
                    float cover = Math.Clamp(halfWidth + 0.5f - across, 0, 1) * Math.Clamp(length / 2 - MathF.Abs(along) + 0.5f, 0, 1);
                    return (cover, 38 * cover);
                });
                break;
            }
            case SheetDefect.Stain:
            {
                // Faint: 20 to 40 pixels across, 10 to 15 grey levels darker at its centre, soft-edged; or large and fainter still.
                bool large = options.LargeStains;
                var (cx, cy) = Spot(large ? 125 : 30);
                float r = (large ? 80 : 10) + (large ? 40 : 10) * (float)rng.NextDouble();
                float depth = (large ? 6 : 10) + (large ? 3 : 5) * (float)rng.NextDouble(), squash = 0.7f + 0.3f * (float)rng.NextDouble();
                Paint(cx, cy, r, (x, y) =>
                {
                    float u = (x - cx) / r, v = (y - cy) / (r * squash);
                    float alpha = Math.Clamp(1 - (u * u + v * v), 0, 1);
                    return (alpha >= 0.36f ? 1 : 0, -depth * MathF.Sqrt(alpha));
                });
                break;
            }
            case SheetDefect.Burr:
            {
                // Metal pushed past the top or bottom edge: a bump 4 to 16 pixels wide and 3 to 8 high.
                bool upper = rng.Next(2) == 0;
                float cx = 40 + (float)rng.NextDouble() * (w - 80), edge = upper ? top : bottom;
                float halfWidth = 2 + 6 * (float)rng.NextDouble(), height = 3 + 5 * (float)rng.NextDouble();
                Paint(cx, edge, halfWidth + height, (x, y) =>
                {
                    float outward = upper ? edge - y : y - edge; // > 0 beyond the edge
                    if (outward <= -0.5f) return (0, 0);
                    float u = (x - cx) / halfWidth;
                    float reach = height * MathF.Max(0, 1 - u * u);
                    float cover = Math.Clamp(reach - outward + 0.5f, 0, 1) * Math.Clamp(outward + 0.5f, 0, 1);
                    return (cover, (160 - 38) * cover);
                });
                break;
            }
        }
    }

    private static byte Byte(float v) => GasketGenerator.Byte(v);

    private static float Gaussian(Random rng) => GasketGenerator.Gaussian(rng);
}
