using EdgePatchCore.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Synthetic;

/// <summary>
/// Writes a synthetic product in the MVTec AD layout, images rendered in parallel: train/good, test/good and
/// test/&lt;defect&gt; as PNG, with ground_truth/&lt;defect&gt;/NNNN_mask.png for every defective image. The render
/// function gets (split, index, defect): split 0 = training, 1 = good test images, 2 + defect = that defect's test
/// images, so that every image is a pure function of the seed and these three numbers.
/// </summary>
public static class MvtecLayoutWriter
{
    /// <returns>the number of images written</returns>
    public static int Write<TDefect>(string root, int trainCount, int testGoodCount, int perDefect, IReadOnlyList<TDefect> defects,
                                     Func<TDefect, string> folderName, Func<int, int, TDefect, (Image<Rgb24> Image, Image<L8>? Mask)> render,
                                     IProgress<StageProgress>? progress, CancellationToken cancel) where TDefect : struct, Enum
    {
        var none = default(TDefect);
        var jobs = new List<(string Image, string? Mask, int Split, int Index, TDefect Defect)>();
        for (int i = 0; i < trainCount; i++) jobs.Add((Path.Combine(root, "train", "good", $"{i:D4}.png"), null, 0, i, none));
        for (int i = 0; i < testGoodCount; i++) jobs.Add((Path.Combine(root, "test", "good", $"{i:D4}.png"), null, 1, i, none));
        foreach (var d in defects)
            for (int i = 0; i < perDefect; i++)
                jobs.Add((Path.Combine(root, "test", folderName(d), $"{i:D4}.png"),
                          Path.Combine(root, "ground_truth", folderName(d), $"{i:D4}_mask.png"), 2 + Convert.ToInt32(d,
                              System.Globalization.CultureInfo.InvariantCulture), i, d));
        foreach (var dir in jobs.SelectMany(j => new[] { j.Image, j.Mask }).OfType<string>().Select(Path.GetDirectoryName).Distinct())
            Directory.CreateDirectory(dir!);
        int done = 0;
        Parallel.ForEach(jobs, new ParallelOptions { CancellationToken = cancel }, job =>
        {
            var (image, mask) = render(job.Split, job.Index, job.Defect);
            using (image) image.SaveAsPng(job.Image);
            if (job.Mask is not null) using (mask) mask!.SaveAsPng(job.Mask);
            else mask?.Dispose();
            progress?.Report(new StageProgress("synth", Interlocked.Increment(ref done), jobs.Count));
        });
        return jobs.Count;
    }
}
