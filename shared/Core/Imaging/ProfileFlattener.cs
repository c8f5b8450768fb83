using System.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Imaging;

/// <summary>
/// Flattens the line profile of a frame at its own pixels (docs/TILING.md, "Flattening a brushed surface"): each line (a row, or a
/// column) of each channel is shifted so that its median matches the running median of the line medians around it. A brushed or
/// rolled surface's lines differ in level from one to the next, and a band of darker lines looks, resized whole, like a stain; the
/// shift takes the band out. What a median keeps: a blob narrower than half a line moves that line's median little and stays; an edge
/// across the lines (a sheet's edge, a conveyor) is a step in the profile, which a centred running median keeps. The frame is
/// flattened before it is resized: each line's own level is taken out, where a resized line mixes several.
/// </summary>
public sealed class ProfileFlattener(ProfileFlattening flattening) : IDisposable
{
    /// <summary>The running median's half window, as a share of the lines: bands up to an eighth of the frame are taken out.</summary>
    public const int WindowDivisor = 8;

    // The frame's copy that is flattened, kept from one frame to the next: a fresh megapixel copy costs more than the flattening.
    private Image<Rgb24>? _scratch;

    /// <summary>
    /// The whole view's network input: <paramref name="frame"/> flattened (a copy; the frame is left as it is), resized per
    /// <paramref name="spec"/> into <paramref name="chw"/> (3 x H x W floats, RGB 0..1). Not for several threads at once.
    /// </summary>
    public void ToInput(Image<Rgb24> frame, InputSpec spec, Span<float> chw, string name = "image")
    {
        if (flattening == ProfileFlattening.Off)
        {
            ImageLoader.ToInput(frame, spec, chw, name);
            return;
        }
        if (_scratch is null || _scratch.Width != frame.Width || _scratch.Height != frame.Height)
        {
            _scratch?.Dispose();
            _scratch = new Image<Rgb24>(frame.Width, frame.Height);
        }
        for (int y = 0; y < frame.Height; y++) frame.DangerousGetPixelRowMemory(y).Span.CopyTo(_scratch.DangerousGetPixelRowMemory(y).Span);
        Apply(_scratch, flattening);
        ImageLoader.ToInput(_scratch, spec, chw, name);
    }

    public void Dispose() => _scratch?.Dispose();

    /// <summary>Flattens <paramref name="image"/> in place, each channel on its own.</summary>
    public static void Apply(Image<Rgb24> image, ProfileFlattening flattening)
    {
        if (flattening == ProfileFlattening.Off) return;
        bool rows = flattening == ProfileFlattening.Rows;
        int lines = rows ? image.Height : image.Width;
        // 1. m_l: the median of each line, per channel (lines x 3), from a histogram of its bytes.
        var medians = LineMedians(image, rows);
        // 2. The level each line should have: the median of m over the lines within the half window, which narrows towards the
        // frame's border so that it stays centred (an odd, symmetric window keeps a step where it is); the shift onto it. Both ends of
        // the window only move forward, so a histogram of the medians in it is kept as it slides.
        var shifts = new int[lines * 3];
        var histogram = new int[256];
        for (int c = 0; c < 3; c++)
        {
            Array.Clear(histogram);
            int lo = 0, hi = -1;
            for (int l = 0; l < lines; l++)
            {
                int half = Math.Min(lines / WindowDivisor, Math.Min(l, lines - 1 - l));
                while (hi < l + half) histogram[medians[++hi * 3 + c]]++;
                while (lo < l - half) histogram[medians[lo++ * 3 + c]]--;
                int level = 0;
                for (int seen = histogram[0]; seen <= half; seen += histogram[++level]) { }
                shifts[l * 3 + c] = level - medians[l * 3 + c];
            }
        }
        // 3. Every pixel moved by its line's shift; rows in bands on every core (each row is written by one band only).
        int bands = Math.Max(1, Math.Min(Environment.ProcessorCount, image.Height / 64));
        Parallel.For(0, bands, band =>
        {
            for (int y = band * image.Height / bands; y < (band + 1) * image.Height / bands; y++)
            {
                var row = image.DangerousGetPixelRowMemory(y).Span;
                if (rows) ShiftRow(row, shifts[y * 3], shifts[y * 3 + 1], shifts[y * 3 + 2]);
                else
                    for (int x = 0; x < row.Length; x++)
                        row[x] = new Rgb24(Shift(row[x].R, shifts[x * 3]), Shift(row[x].G, shifts[x * 3 + 1]), Shift(row[x].B, shifts[x * 3 + 2]));
            }
        });
    }

    private static void ShiftRow(Span<Rgb24> row, int r, int g, int b)
    {
        for (int x = 0; x < row.Length; x++) row[x] = new Rgb24(Shift(row[x].R, r), Shift(row[x].G, g), Shift(row[x].B, b));
    }

    /// <summary>Each line's median per channel (lines x 3: R, G, B): the lower middle value of its pixels.</summary>
    private static int[] LineMedians(Image<Rgb24> image, bool rows)
    {
        int lines = rows ? image.Height : image.Width, length = rows ? image.Width : image.Height;
        var medians = new int[lines * 3];
        if (rows)
        {
            // One row's histograms at a time (3 x 256, in cache), rows in bands on every core.
            int bands = Math.Max(1, Math.Min(Environment.ProcessorCount, image.Height / 64));
            Parallel.For(0, bands, band =>
            {
                var histogram = new int[3 * 256];
                for (int y = band * image.Height / bands; y < (band + 1) * image.Height / bands; y++)
                {
                    Array.Clear(histogram);
                    foreach (var p in image.DangerousGetPixelRowMemory(y).Span)
                    {
                        histogram[p.R]++;
                        histogram[256 + p.G]++;
                        histogram[512 + p.B]++;
                    }
                    for (int c = 0; c < 3; c++) medians[y * 3 + c] = Median(histogram.AsSpan(c * 256, 256), length);
                }
            });
            return medians;
        }
        // Columns: every column's histograms at once, filled row by row. Rented: they are megabytes, and the agent flattens every frame.
        var histograms = ArrayPool<int>.Shared.Rent(lines * 3 * 256);
        Array.Clear(histograms, 0, lines * 3 * 256);
        for (int y = 0; y < image.Height; y++)
        {
            var row = image.DangerousGetPixelRowMemory(y).Span;
            for (int x = 0; x < row.Length; x++)
            {
                histograms[x * 768 + row[x].R]++;
                histograms[x * 768 + 256 + row[x].G]++;
                histograms[x * 768 + 512 + row[x].B]++;
            }
        }
        for (int h = 0; h < lines * 3; h++) medians[h] = Median(histograms.AsSpan(h * 256, 256), length);
        ArrayPool<int>.Shared.Return(histograms);
        return medians;
    }

    /// <summary>The lower middle value of <paramref name="count"/> bytes counted in <paramref name="histogram"/> (256 bins).</summary>
    private static int Median(ReadOnlySpan<int> histogram, int count)
    {
        int seen = 0, v = 0;
        for (; v < 255; v++)
            if ((seen += histogram[v]) * 2 >= count) break;
        return v;
    }

    private static byte Shift(byte value, int shift) => (byte)Math.Clamp(value + shift, 0, 255);
}
