namespace EdgePatchCore.Imaging;

/// <summary>
/// Decodes files into network-input batches, in parallel within a batch. Files that cannot be
/// decoded are reported through <c>onBadFile</c> (path, reason) and left out, unless the caller throws there.
/// </summary>
public sealed class ImageBatchReader(ImageLoader loader, InputSpec spec, int batchSize)
{
    public int InputLength => 3 * spec.Width * spec.Height;

    public IEnumerable<ImageBatch> Read(IReadOnlyList<string> paths, Action<string, string> onBadFile,
                                        CancellationToken cancel = default)
    {
        // One buffer for all batches: a fresh one per batch is megabytes of large-object garbage each time.
        var data = new float[Math.Min(batchSize, Math.Max(1, paths.Count)) * InputLength];
        for (int start = 0; start < paths.Count; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, paths.Count - start);
            var errors = new string?[n];
            Parallel.For(0, n, new ParallelOptions { CancellationToken = cancel }, i =>
            {
                try { loader.LoadInput(paths[start + i], spec, data.AsSpan(i * InputLength, InputLength)); }
                catch (ImageLoadException e) { errors[i] = e.Message; }
            });
            // Compact the good ones to the front, keeping order.
            var indices = new List<int>(n);
            for (int i = 0; i < n; i++)
            {
                if (errors[i] is { } reason) { onBadFile(paths[start + i], reason); continue; }
                if (indices.Count != i)
                    data.AsSpan(i * InputLength, InputLength).CopyTo(data.AsSpan(indices.Count * InputLength, InputLength));
                indices.Add(start + i);
            }
            if (indices.Count > 0) yield return new ImageBatch(data, indices.Count, indices.ToArray());
        }
    }
}
