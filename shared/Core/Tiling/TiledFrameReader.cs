using EdgePatchCore.Imaging;

namespace EdgePatchCore.Tiling;

/// <summary>
/// Decodes files one frame at a time into <see cref="TiledFrame"/>s, decoding the next file while the caller works on
/// the current one. Files that cannot be decoded, and with <c>oneSize</c> frames whose size differs from the first
/// readable one, go to <c>onBadFile</c> (path, reason) and are left out. Each frame is disposed when the caller asks for
/// the next: use it before that.
/// </summary>
public sealed class TiledFrameReader(ImageLoader loader, TilingSpec tiling)
{
    /// <param name="oneSize">refuse frames of another size than the first (a build's patches per image must not vary)</param>
    public IEnumerable<(int Index, TiledFrame Frame)> Read(IReadOnlyList<string> paths, Action<string, string> onBadFile,
                                                           bool oneSize = false, CancellationToken cancel = default)
    {
        (int Width, int Height)? size = null;
        Task<TiledFrame?>? next = paths.Count > 0 ? Prefetch(paths[0], cancel) : null;
        try
        {
            for (int i = 0; i < paths.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                TiledFrame? frame;
                string? error = null;
                try { frame = next!.GetAwaiter().GetResult(); }
                catch (ImageLoadException e) { frame = null; error = e.Message; }
                string? following = i + 1 < paths.Count ? paths[i + 1] : null; // a copy: the lambda must not see i change
                next = following is null ? null : Prefetch(following, cancel);
                if (frame is null) { onBadFile(paths[i], error ?? $"{paths[i]}: cannot be read"); continue; }
                using (frame)
                {
                    if (oneSize)
                    {
                        size ??= (frame.FrameWidth, frame.FrameHeight);
                        if (size != (frame.FrameWidth, frame.FrameHeight))
                        {
                            onBadFile(paths[i], $"{paths[i]}: {frame.FrameWidth} x {frame.FrameHeight} pixels, but the first image is " +
                                                $"{size.Value.Width} x {size.Value.Height} (a tiled model is built and evaluated on frames of one " +
                                                    $"size)");
                            continue;
                        }
                    }
                    yield return (i, frame);
                }
            }
        }
        finally
        {
            // A caller that stops early (or fails) leaves a decode in flight: its frame is disposed when it ends.
            next?.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result?.Dispose(); }, TaskScheduler.Default);
        }
    }

    /// <summary>Decodes on its own thread, not the pool's: the caller blocks on it, and a busy pool must not wait for itself.</summary>
    private Task<TiledFrame?> Prefetch(string path, CancellationToken cancel) =>
        Task.Factory.StartNew(() => Load(path), cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private TiledFrame? Load(string path)
    {
        var image = loader.Decode(path);
        try { return TiledFrame.From(image, tiling, path, takeOwnership: true); }
        catch (Exception e) when (e is not ImageLoadException)
        {
            image.Dispose();
            throw new ImageLoadException($"{path}: cannot be scaled for tiling ({e.Message})", e);
        }
    }
}
