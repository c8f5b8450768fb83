using System.Diagnostics;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tiling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// Decode cost of megapixel frames: a synthetic sheet frame at 1600 x 1200 and 2448 x 2048, as PNG and as JPEG
/// (quality 90), each decoded by plain ImageSharp (the baseline), by the guarded <see cref="ImageLoader"/> (header
/// checks, structure check, time budget), then with the tiling work that follows a decode: scaling to 0.5, and
/// cutting 224-pixel tiles into the network's input buffer. All rows run in turn in every round.
/// </summary>
public sealed class DecodeBenchmark(TextWriter output)
{
    public void Run(int iterations, CancellationToken cancel)
    {
        var loader = new ImageLoader();
        var tiling = new TilingSpec { TileSize = 224, Overlap = 16 };
        var half = tiling with { Scale = 0.5f };
        output.WriteLine($"decode benchmark: {Environment.ProcessorCount} threads, {iterations} rounds, median ms per frame (megapixels per second)");
        output.WriteLine($"{"frame",-24} {"plain ImageSharp",18} {"guarded decode",18} {"+ scale 0.5",18} {"+ cut 224 tiles",18} {"tiles",6}");
        foreach (var (w, h) in new[] { (1600, 1200), (2448, 2048) })
        {
            var (image, _) = new SheetGenerator(new SheetOptions { Width = w, Height = h, Seed = 3 }).Render(0, 0, SheetDefect.None);
            byte[] png, jpeg;
            using (image)
            {
                using var p = new MemoryStream();
                image.SaveAsPng(p);
                png = p.ToArray();
                using var j = new MemoryStream();
                image.SaveAsJpeg(j, new JpegEncoder { Quality = 90 });
                jpeg = j.ToArray();
            }
            foreach (var (format, bytes) in new[] { ("PNG", png), ("JPEG", jpeg) })
            {
                var rows = new List<double>[4];
                for (int r = 0; r < rows.Length; r++) rows[r] = [];
                var layout = tiling.Layout(w, h);
                var inputs = new float[TileLayout.TilesPerRun * 3 * 224 * 224];
                for (int round = -1; round < iterations; round++) // round -1 untimed
                {
                    cancel.ThrowIfCancellationRequested();
                    long t0 = Stopwatch.GetTimestamp();
                    using (Image.Load<Rgb24>(bytes)) { }
                    long t1 = Stopwatch.GetTimestamp();
                    using (loader.Decode(bytes, "frame")) { }
                    long t2 = Stopwatch.GetTimestamp();
                    using (var decoded = loader.Decode(bytes, "frame"))
                    using (TiledFrame.From(decoded, half)) { }
                    long t3 = Stopwatch.GetTimestamp();
                    using (var decoded = loader.Decode(bytes, "frame"))
                    using (var frame = TiledFrame.From(decoded, tiling))
                        for (int first = 0; first < layout.Count; first += TileLayout.TilesPerRun)
                            frame.WriteTiles(first, Math.Min(TileLayout.TilesPerRun, layout.Count - first), inputs);
                    long t4 = Stopwatch.GetTimestamp();
                    if (round < 0) continue;
                    rows[0].Add(Ms(t0, t1));
                    rows[1].Add(Ms(t1, t2));
                    rows[2].Add(Ms(t2, t3));
                    rows[3].Add(Ms(t3, t4));
                }
                double megapixels = w * (double)h / 1e6;
                string Cell(List<double> v) { double ms = Percentile.Of(v, 0.5); return $"{ms,7:F1} ({megapixels / ms * 1000,5:F0} MP/s)"; }
                output.WriteLine($"{$"{w} x {h} {format} {bytes.Length / 1e6:F1} MB",-24} {Cell(rows[0]),18} {Cell(rows[1]),18} {Cell(rows[2]),18} " +
                    $"{Cell(rows[3]),18} {layout.Count,6}");
            }
        }
        output.WriteLine("JPEG: ImageSharp 2.1 has no scaled (DCT-domain) decoding, so --scale resizes after a full decode.");
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
