using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using EdgePatchCore.Tiling;

namespace EdgePatchCore.Training;

/// <summary>
/// The build's measurement of the int8 backbone's activation ranges: <see cref="ActivationCalibrator.DefaultInputs"/>
/// network inputs spread over the training set (whole images, or for a tiled model a few tiles from each of several
/// frames), run through the float graph before the embedding pass.
/// </summary>
public static class BackboneCalibration
{
    private const int TilesPerFrame = 4;

    public static ActivationRanges Measure(PreparedBackbone backbone, BuildOptions options, IReadOnlyList<string> files, ExecutionDevice device,
        ImageLoader loader, CancellationToken cancel)
    {
        using var calibrator = new ActivationCalibrator(backbone, options.Input, device);
        void Ignore(string path, string reason) { } // the embedding pass reports unreadable files
        if (options.Tiling is { } tiling)
        {
            var frames = Spread(files, ActivationCalibrator.DefaultInputs / TilesPerFrame);
            var input = new float[3 * options.Input.Width * options.Input.Height];
            foreach (var (_, frame) in new TiledFrameReader(loader, tiling).Read(frames, Ignore, cancel: cancel))
                for (int j = 0; j < TilesPerFrame; j++)
                {
                    int tiles = frame.Layout.Count;
                    frame.WriteTiles((j * tiles + tiles / 2) / TilesPerFrame, 1, input);
                    calibrator.Add(input, 1);
                }
        }
        else
        {
            var reader = new ImageBatchReader(loader, options.Input, options.BatchSize);
            foreach (var batch in reader.Read(Spread(files, ActivationCalibrator.DefaultInputs), Ignore, cancel))
                calibrator.Add(batch.Data, batch.Count);
        }
        if (calibrator.Inputs == 0) throw new Diagnostics.BuildException("no readable training image to calibrate the int8 backbone on");
        return calibrator.Ranges();
    }

    /// <summary>Up to <paramref name="count"/> files evenly spread over the list (the list when it is shorter).</summary>
    private static List<string> Spread(IReadOnlyList<string> files, int count) =>
        files.Count <= count ? [.. files] : [.. Enumerable.Range(0, count).Select(i => files[(int)((long)i * files.Count / count)])];
}
