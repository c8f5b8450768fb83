using EdgePatchCore.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Synthetic;

/// <summary>
/// A synthetic product for demos and tests: a black rubber gasket (ring with four bolt holes and a
/// moulding tab) on a conveyor, under varying light, position and rotation. Written in the MVTec AD
/// layout with pixel masks for five defect types. Pixels are computed from analytic signed distances
/// with anti-aliased edges; every image is a pure function of (seed, split, index).
/// </summary>
public sealed class GasketGenerator(GasketOptions options)
{
    public static readonly GasketDefect[] DefectTypes =
        [GasketDefect.Cut, GasketDefect.Contamination, GasketDefect.Scratch, GasketDefect.MissingChunk, GasketDefect.Deformation];

    public static string FolderName(GasketDefect d) => d switch
    {
        GasketDefect.Cut => "cut",
        GasketDefect.Contamination => "contamination",
        GasketDefect.Scratch => "scratch",
        GasketDefect.MissingChunk => "missing_chunk",
        GasketDefect.Deformation => "deformation",
        _ => "good",
    };

    /// <summary>Writes the whole dataset under <paramref name="root"/>; returns the number of images.</summary>
    public int Write(string root, IProgress<StageProgress>? progress = null, CancellationToken cancel = default) =>
        MvtecLayoutWriter.Write(root, options.TrainCount, options.TestGoodCount, options.TestPerDefect, DefectTypes, FolderName, Render, progress,
            cancel);

    /// <summary>Renders one image and, for a defect, its mask (255 = defect).</summary>
    public (Image<Rgb24> Image, Image<L8>? Mask) Render(int split, int index, GasketDefect defect)
    {
        var rng = new Random(ImageSeed(options.Seed, split, index));
        int n = options.Size;
        float s = n / 256f; // all geometry below is in 256-pixel units
        var scene = new Scene
        {
            Cx = n / 2f + (float)(rng.NextDouble() * 20 - 10) * s,
            Cy = n / 2f + (float)(rng.NextDouble() * 20 - 10) * s,
            Outer = (95 + (float)(rng.NextDouble() * 4 - 2)) * s,
            Inner = (60 + (float)(rng.NextDouble() * 4 - 2)) * s,
            Rotation = (float)(rng.NextDouble() * 2 * Math.PI),
            Gain = options.GainMin + (float)rng.NextDouble() * options.GainRange,
            LightAngle = (float)(rng.NextDouble() * 2 * Math.PI),
            LightSlope = (float)(rng.NextDouble() * 0.24 - 0.12),
            Scale = s,
        };
        var d = DefectGeometry.Create(defect, scene, rng);

        var image = new Image<Rgb24>(n, n);
        var mask = defect == GasketDefect.None ? null : new Image<L8>(n, n);
        var bgPhase = new double[4];
        for (int i = 0; i < 4; i++) bgPhase[i] = rng.NextDouble() * 2 * Math.PI;
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                float px = x + 0.5f, py = y + 0.5f;
                // Conveyor: blue-grey with a faint low-frequency weave and grain.
                float weave = 6f * (float)(Math.Sin(px / (9 * s) + bgPhase[0]) * Math.Sin(py / (11 * s) + bgPhase[1]))
                            + 4f * (float)Math.Sin((px + py) / (37 * s) + bgPhase[2]);
                float grain = Gaussian(rng) * 3f;
                float br = options.Belt.R + weave + grain, bgc = options.Belt.G + weave + grain, bb = options.Belt.B + weave + grain;

                float cleanSd = scene.SignedDistance(px, py, null);
                float sd = d is null ? cleanSd : scene.SignedDistance(px, py, d);
                float cover = Math.Clamp(0.5f - sd, 0f, 1f);

                // Rubber: dark, with a soft highlight along the middle of the ring width (a rounded profile).
                float rho = MathF.Sqrt((px - scene.Cx) * (px - scene.Cx) + (py - scene.Cy) * (py - scene.Cy));
                float mid = (scene.Outer + scene.Inner) / 2, half = (scene.Outer - scene.Inner) / 2;
                float profile = Math.Clamp(1 - MathF.Pow((rho - mid) / half, 2), 0, 1);
                float rubber = 34 + 22 * profile + Gaussian(rng) * 2.5f;
                float rr = rubber, rg = rubber, rb = rubber + 3;

                float paint = 0;
                if (d is not null && cover > 0)
                {
                    paint = d.Paint(px, py) * cover;
                    rr += (d.PaintColour.R - rr) * paint;
                    rg += (d.PaintColour.G - rg) * paint;
                    rb += (d.PaintColour.B - rb) * paint;
                }
                float light = scene.Gain * (1 + scene.LightSlope * ((px - n / 2f) * MathF.Cos(scene.LightAngle)
                    + (py - n / 2f) * MathF.Sin(scene.LightAngle)) / (n / 2f));
                float r = (br + (rr - br) * cover) * light, g = (bgc + (rg - bgc) * cover) * light, b = (bb + (rb - bb) * cover) * light;
                image[x, y] = new Rgb24(Byte(r), Byte(g), Byte(b));
                if (mask is not null)
                {
                    float cleanCover = Math.Clamp(0.5f - cleanSd, 0f, 1f);
                    bool isDefect = Math.Abs(cover - cleanCover) > 0.5f || paint > 0.5f;
                    mask[x, y] = new L8(isDefect ? (byte)255 : (byte)0);
                }
            }
        }
        return (image, mask);
    }

    /// <summary>
    /// A fixed mix of (seed, split, index) into one seed (SplitMix64 finaliser). Not HashCode.Combine:
    /// that is randomised per process, and the dataset must be the same in every run.
    /// </summary>
    public static int ImageSeed(int seed, int split, int index)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)split << 40 ^ (ulong)(uint)index;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }

    /// <summary>A grey level rounded and clamped to a byte (also the sheet's).</summary>
    internal static byte Byte(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);

    /// <summary>A standard normal sample (Box-Muller; also the sheet's).</summary>
    internal static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>The part's pose and the light; geometry helpers return signed distances (negative inside).</summary>
    private sealed class Scene
    {
        public float Cx, Cy, Outer, Inner, Rotation, Gain, LightAngle, LightSlope, Scale;

        public float SignedDistance(float x, float y, DefectGeometry? d)
        {
            float dx = x - Cx, dy = y - Cy;
            float rho = MathF.Sqrt(dx * dx + dy * dy);
            float theta = MathF.Atan2(dy, dx);
            float outer = Outer + (d?.OuterBulge(theta) ?? 0);
            float sd = Math.Max(rho - outer, Inner - rho);
            // Moulding tab on the outside: a small rounded box at angle Rotation.
            var (tx, ty) = Local(x, y, Rotation);
            float tab = Box(tx - (Outer + 5 * Scale), ty, 8 * Scale, 6 * Scale) - 1.5f * Scale;
            sd = Math.Min(sd, tab);
            // Four bolt holes on the mid circle.
            float mid = (Outer + Inner) / 2, holeR = 6 * Scale;
            for (int k = 0; k < 4; k++)
            {
                float a = Rotation + MathF.PI / 4 + k * MathF.PI / 2;
                float hx = Cx + mid * MathF.Cos(a), hy = Cy + mid * MathF.Sin(a);
                sd = Math.Max(sd, holeR - MathF.Sqrt((x - hx) * (x - hx) + (y - hy) * (y - hy)));
            }
            if (d is not null) sd = Math.Max(sd, d.Removed(x, y));
            return sd;
        }

        /// <summary>Coordinates in a frame rotated by <paramref name="angle"/> about the centre.</summary>
        public (float X, float Y) Local(float x, float y, float angle)
        {
            float dx = x - Cx, dy = y - Cy, c = MathF.Cos(angle), s = MathF.Sin(angle);
            return (dx * c + dy * s, -dx * s + dy * c);
        }

        private static float Box(float x, float y, float hw, float hh)
        {
            float qx = Math.Abs(x) - hw, qy = Math.Abs(y) - hh;
            return MathF.Sqrt(Math.Max(qx, 0) * Math.Max(qx, 0) + Math.Max(qy, 0) * Math.Max(qy, 0)) + Math.Min(Math.Max(qx, qy), 0);
        }
    }

    /// <summary>One defect: material removed (signed distance, positive where removed), added at the edge, or painted on.</summary>
    private sealed class DefectGeometry
    {
        public Func<float, float, float> Removed = (_, _) => float.NegativeInfinity;
        public Func<float, float> OuterBulge = _ => 0;
        public Func<float, float, float> Paint = (_, _) => 0;
        public (float R, float G, float B) PaintColour;

        public static DefectGeometry? Create(GasketDefect type, Scene sc, Random rng)
        {
            if (type == GasketDefect.None) return null;
            var g = new DefectGeometry();
            float s = sc.Scale, mid = (sc.Outer + sc.Inner) / 2;
            // Angle away from the bolt holes and the tab, so the defect is always on plain rubber.
            float alpha = sc.Rotation + MathF.PI / 2 * rng.Next(4) + MathF.PI / 8 + (float)(rng.NextDouble() * 0.2 - 0.1)
                + (rng.Next(2) == 0 ? 0 : MathF.PI / 4);
            float ax = sc.Cx + mid * MathF.Cos(alpha), ay = sc.Cy + mid * MathF.Sin(alpha);
            switch (type)
            {
                case GasketDefect.Cut:
                {
                    float halfWidth = (1.5f + (float)rng.NextDouble() * 1.5f) * s, tilt = (float)(rng.NextDouble() * 0.6 - 0.3);
                    g.Removed = (x, y) =>
                    {
                        var (lx, ly) = sc.Local(x, y, alpha + tilt);
                        return lx > 0 ? halfWidth - Math.Abs(ly) : float.NegativeInfinity; // one side only
                    };
                    break;
                }
                case GasketDefect.MissingChunk:
                {
                    float r = (10 + (float)rng.NextDouble() * 6) * s;
                    float cx = sc.Cx + sc.Outer * MathF.Cos(alpha), cy = sc.Cy + sc.Outer * MathF.Sin(alpha);
                    g.Removed = (x, y) => r - MathF.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                    break;
                }
                case GasketDefect.Deformation:
                {
                    float amp = (7 + (float)rng.NextDouble() * 5) * s, width = 0.12f + (float)rng.NextDouble() * 0.08f;
                    g.OuterBulge = theta =>
                    {
                        float diff = MathF.IEEERemainder(theta - alpha, 2 * MathF.PI);
                        return amp * MathF.Exp(-diff * diff / (width * width));
                    };
                    break;
                }
                case GasketDefect.Contamination:
                {
                    var blobs = Enumerable.Range(0, 3 + rng.Next(2)).Select(_ => (
                        X: ax + (float)(rng.NextDouble() * 12 - 6) * s, Y: ay + (float)(rng.NextDouble() * 12 - 6) * s,
                        R: (3.5f + (float)rng.NextDouble() * 4) * s)).ToArray();
                    g.PaintColour = rng.Next(2) == 0 ? (205, 185, 140) : (225, 225, 215);
                    g.Paint = (x, y) =>
                    {
                        float best = float.PositiveInfinity;
                        foreach (var b in blobs) best = Math.Min(best, MathF.Sqrt((x - b.X) * (x - b.X) + (y - b.Y) * (y - b.Y)) - b.R);
                        return Math.Clamp(0.5f - best, 0, 1);
                    };
                    break;
                }
                case GasketDefect.Scratch:
                {
                    float length = (26 + (float)rng.NextDouble() * 18) * s, halfWidth = 1.1f * s;
                    float dir = alpha + MathF.PI / 2 + (float)(rng.NextDouble() * 0.8 - 0.4);
                    float ux = MathF.Cos(dir), uy = MathF.Sin(dir);
                    g.PaintColour = (150, 150, 158);
                    g.Paint = (x, y) =>
                    {
                        float t = Math.Clamp((x - ax) * ux + (y - ay) * uy, -length / 2, length / 2);
                        float qx = ax + t * ux - x, qy = ay + t * uy - y;
                        return Math.Clamp(halfWidth + 0.5f - MathF.Sqrt(qx * qx + qy * qy), 0, 1);
                    };
                    break;
                }
            }
            return g;
        }
    }
}
