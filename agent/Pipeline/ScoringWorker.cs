using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The one scorer per device: takes whatever frames are queued (up to MaxBatch), decodes them in
/// parallel, scores each product's frames in one batch, and stores one verdict per frame in the outbox
/// before telling the source the frame is done. Every frame fails alone: a frame that cannot be decoded or
/// scored, or whose score is not a finite number, gets an "error" verdict with the reason, and the others in
/// its batch are scored as usual. When the outbox cannot be written (a full disk) scoring waits, retrying,
/// with the verdict in hand and the frame still held by its source: nothing accepted is lost.
/// </summary>
public sealed class ScoringWorker(
    IOptions<AgentOptions> options, FrameQueue queue, ModelStore.ModelStore models, ArtifactWatcher watcher,
    Outbox outbox, TopicNames topics, BrokerConnection broker, AgentMetrics metrics, Web.RecentFrames recent, Sparkplug.SparkplugFeed sparkplug, Teach.FrameKeeper kept, DropCounter drops, ILogger<ScoringWorker> logger) : BackgroundService
{
    private readonly ImageLoader _loader = new(options.Value.Limits.ToImageLimits());
    private readonly bool _heatmaps = options.Value.Publishing.Heatmaps;
    private readonly bool _keepImages = options.Value.Publishing.Heatmaps || recent.Capacity > 0 || sparkplug.Enabled;
    private readonly long _maxBatchBytes = options.Value.Pipeline.MaxBatchBytes;
    private float[] _inputs = [];
    private const int HeatmapMaxSide = 1024;

    private sealed class Item(Frame frame)
    {
        public Frame Frame { get; } = frame;
        public LoadedModel? Model;
        public string? Error;
        public double DecodeMs, InferMs;
        public int FrameWidth, FrameHeight;
        public Image<Rgb24>? Image; // kept only for heat maps (MQTT, live page)
        public ImageScore? Score;
        public bool Done; // its verdict is stored and its source told
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await watcher.InitialLoad.WaitAsync(stoppingToken); // frames wait for the first model rather than fail
        int maxBatch = options.Value.Pipeline.MaxBatch;
        var batch = new List<Frame>(maxBatch);
        Task<bool>? wait = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            metrics.Heartbeat();
            wait ??= queue.Reader.WaitToReadAsync(stoppingToken).AsTask();
            try
            {
                if (!wait.IsCompleted && await Task.WhenAny(wait, Task.Delay(1000, stoppingToken)) != wait) continue; // idle: keep the heartbeat going
                if (!await wait) break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            wait = null;
            // A batch takes frames while their decoded size fits MaxBatchBytes (always one): megapixel frames come in small batches.
            long held = 0;
            while (batch.Count < maxBatch && queue.Reader.TryPeek(out var next))
            {
                long cost = DecodedBytes(next);
                if (batch.Count > 0 && held + cost > _maxBatchBytes) break;
                if (!queue.Reader.TryRead(out var frame)) break;
                batch.Add(frame);
                held += cost;
            }
            if (batch.Count == 0) continue;
            metrics.BatchHeld(held);
            var items = batch.Select(f => new Item(f)).ToArray();
            try
            {
                await ProcessAsync(items, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break; // frames without a stored verdict stay with their sources (folder: in place; MQTT: unacknowledged)
            }
            catch (Exception e)
            {
                // A bug or a native failure must not stop the line: every frame still gets a verdict.
                logger.LogError(e, "Unexpected failure scoring {Count} frame(s)", items.Length);
                foreach (var item in items.Where(i => !i.Done))
                {
                    item.Score = null;
                    item.Error = Text.Cap($"internal error while scoring: {e.GetType().Name}: {e.Message}", Text.MaxError);
                    try { await FinishAsync(item, stoppingToken); }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                    catch (Exception again) { logger.LogError(again, "Cannot report frame {Frame}", item.Frame.Id); }
                }
            }
            finally
            {
                foreach (var item in items)
                {
                    item.Model?.Release();
                    item.Image?.Dispose();
                }
                batch.Clear();
            }
        }
    }

    private async Task ProcessAsync(Item[] items, CancellationToken stop)
    {
        foreach (var item in items)
        {
            if (item.Frame.RejectReason is { } reason) item.Error = reason;
            else item.Model = models.Acquire(item.Frame.Product, out item.Error);
        }
        foreach (var group in items.Where(i => i.Model is not null).GroupBy(i => i.Model!))
            ScoreGroup(group.Key, group.ToArray());
        foreach (var item in items) await FinishAsync(item, stop);
    }

    private void ScoreGroup(LoadedModel model, Item[] items)
    {
        if (model.Scorer.Tiling is not null)
        {
            ScoreTiledGroup(model, items);
            return;
        }
        int inputLength = model.Scorer.Features.InputLength;
        if (_inputs.Length < items.Length * inputLength) _inputs = new float[items.Length * inputLength];
        var inputs = _inputs;
        Parallel.For(0, items.Length, i => Decode(items[i], _keepImages,
            image => ImageLoader.ToInput(image, model.Input, inputs.AsSpan(i * inputLength, inputLength), items[i].Frame.Id)));

        // Good frames to the front, in order, so that one call scores them all.
        var good = new List<Item>(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i].Error is not null) continue;
            if (good.Count != i) inputs.AsSpan(i * inputLength, inputLength).CopyTo(inputs.AsSpan(good.Count * inputLength, inputLength));
            good.Add(items[i]);
        }
        if (good.Count == 0) return;
        if (TryScore(model, inputs.AsMemory(0, good.Count * inputLength), good, out string? failure) || good.Count == 1)
        {
            if (failure is not null) good[0].Error = failure;
            return;
        }
        // The batch failed as a whole: score the frames one at a time, so that only the one at fault fails.
        logger.LogWarning("Scoring a batch of {Count} with model {Model} failed ({Reason}); scoring its frames one at a time", good.Count, model.Id, failure);
        for (int i = 0; i < good.Count; i++)
            if (!TryScore(model, inputs.AsMemory(i * inputLength, inputLength), [good[i]], out string? single)) good[i].Error = single;
    }

    /// <summary>
    /// A tiled model's frames: decoded in parallel, then scored one at a time (each frame is already a batch of tiles,
    /// and the scorer's buffers hold one frame's tiles). A frame that fails, fails alone.
    /// </summary>
    private void ScoreTiledGroup(LoadedModel model, Item[] items)
    {
        Parallel.For(0, items.Length, i => Decode(items[i], keep: true));
        foreach (var item in items)
        {
            if (item.Error is not null || item.Image is null) continue;
            long start = Stopwatch.GetTimestamp();
            try
            {
                item.Score = model.Scorer.ScoreFrame(item.Image, item.Frame.Id);
            }
            catch (ImageLoadException e) { item.Error = e.Message; }
            catch (Exception e)
            {
                logger.LogError("Scoring failed with model {Model}: {Type}: {Reason}", model.Id, e.GetType().Name, e.Message);
                item.Error = $"scoring failed: {e.Message}";
            }
            item.InferMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!_keepImages)
            {
                item.Image.Dispose();
                item.Image = null;
            }
        }
    }

    /// <summary>What decoding <paramref name="frame"/> will hold (RGB, 3 bytes a pixel), from its header; its encoded size when the header cannot be read.</summary>
    private static long DecodedBytes(Frame frame)
    {
        if (frame.RejectReason is not null || frame.Bytes.Length == 0) return 0;
        try { return Image.Identify(frame.Bytes) is { } info ? (long)info.Width * info.Height * 3 : frame.Bytes.LongLength; }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException) { return frame.Bytes.LongLength; }
    }

    /// <summary>
    /// Decodes a frame, then <paramref name="prepare"/>s it (the network input); any failure fails this frame only.
    /// With <paramref name="keep"/> the image stays in <see cref="Item.Image"/>, else it is disposed here.
    /// </summary>
    private void Decode(Item item, bool keep, Action<Image<Rgb24>>? prepare = null)
    {
        long start = Stopwatch.GetTimestamp();
        Image<Rgb24>? image = null;
        try
        {
            image = _loader.Decode(item.Frame.Bytes, item.Frame.Id);
            item.FrameWidth = image.Width;
            item.FrameHeight = image.Height;
            prepare?.Invoke(image);
            if (keep) (item.Image, image) = (image, null);
        }
        catch (ImageLoadException e)
        {
            item.Error = e.Message;
        }
        catch (Exception e) // a resize or conversion failure (out of memory included) fails this frame only
        {
            item.Error = $"{item.Frame.Id}: cannot prepare the image ({e.GetType().Name}: {e.Message})";
        }
        finally
        {
            image?.Dispose();
        }
        item.DecodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private bool TryScore(LoadedModel model, ReadOnlyMemory<float> inputs, List<Item> items, out string? failure)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var scores = model.Scorer.Score(inputs, items.Count);
            double perFrame = Stopwatch.GetElapsedTime(start).TotalMilliseconds / items.Count;
            for (int i = 0; i < items.Count; i++)
            {
                items[i].Score = scores[i];
                items[i].InferMs = perFrame;
            }
            failure = null;
            return true;
        }
        catch (Exception e)
        {
            logger.LogError("Scoring failed with model {Model}: {Type}: {Reason}", model.Id, e.GetType().Name, e.Message);
            failure = $"scoring failed: {e.Message}";
            return false;
        }
    }

    private async Task FinishAsync(Item item, CancellationToken stop)
    {
        var frame = item.Frame;
        var model = item.Model;
        var score = item.Score;
        string frameId = Text.FrameId(frame.Id) ?? "(no id)";
        double total = Stopwatch.GetElapsedTime(frame.ReceivedTimestamp).TotalMilliseconds;
        var latency = new VerdictLatency(Math.Round(item.DecodeMs, 3), Math.Round(item.InferMs, 3), Math.Round(total, 3));
        string? error = item.Error;
        if (error is null && score is not null && model is not null && Judge.Of(score.Score, model.Threshold) == Judgement.Undecidable)
            error = $"{frameId}: score {score.Score} against threshold {model.Threshold} cannot be judged (not a finite number)";
        Verdict verdict;
        if (score is null || model is null || error is not null)
        {
            verdict = new Verdict
            {
                FrameId = frameId, Source = frame.Source, Product = model?.Product ?? (frame.Product is null ? null : Text.Cap(frame.Product, 128)),
                Model = model is null ? null : new VerdictModel(model.Id, model.CreatedAtUtc, model.DerivedOnDeviceFrom),
                CapturedAt = frame.CapturedAt, ScoredAt = DateTimeOffset.UtcNow, Result = Verdict.Error,
                Threshold = model?.Threshold, LatencyMs = latency, ErrorText = Text.Cap(error ?? "not scored", Text.MaxError),
            };
            metrics.FrameError();
            logger.LogWarning("Frame {Frame} from {Source}: {Reason}", frameId, frame.Source, verdict.ErrorText);
        }
        else
        {
            bool defect = Judge.Of(score.Score, model.Threshold) == Judgement.Defect;
            verdict = new Verdict
            {
                FrameId = frameId, Source = frame.Source, Product = model.Product,
                Model = new VerdictModel(model.Id, model.CreatedAtUtc, model.DerivedOnDeviceFrom),
                CapturedAt = frame.CapturedAt, ScoredAt = DateTimeOffset.UtcNow,
                Result = defect ? Verdict.Defect : Verdict.Ok,
                Score = score.Score, Threshold = model.Threshold, NormalizedScore = score.Score / model.Threshold,
                Region = defect ? DefectRegion(score, model, item) : null,
                LatencyMs = latency,
            };
            metrics.FrameScored(defect, total);
        }

        // The heat map first, so that the Sparkplug node has it when it publishes this verdict.
        byte[]? overlay = null;
        if (item.Image is not null && score is not null && model is not null
            && (recent.Capacity > 0 || ((_heatmaps || sparkplug.Enabled) && verdict.Result == Verdict.Defect)))
        {
            try { overlay = RenderHeatmap(item.Image, score, model, frameId); }
            catch (Exception e) { logger.LogWarning("Heat map for {Frame} not rendered: {Reason}", frameId, e.Message); }
        }
        if (verdict.Result == Verdict.Defect && overlay is not null) sparkplug.Heatmap(frameId, overlay);

        await StoreAsync(verdict.ToJson(), frameId, stop);
        item.Done = true;
        try
        {
            frame.Completion?.Completed(verdict);
        }
        catch (Exception e) // acknowledging or moving the file must never stop the loop
        {
            logger.LogWarning("Frame {Frame}: its source could not be told it is done ({Reason})", frameId, e.Message);
        }
        if (_heatmaps && verdict.Result == Verdict.Defect && overlay is not null)
            _ = broker.PublishTransientAsync(topics.Heatmap, overlay, CancellationToken.None, frameId).ContinueWith(published =>
            {
                if (!published.IsCompletedSuccessfully || !published.Result)
                    drops.Drop("heatmap", "a heat map was not published (broker unreachable, or over its packet size): heat maps are not kept for later");
            }, TaskScheduler.Default);
        // For teaching, written off this loop; a frame that was not scored cannot teach anything, so it is not kept.
        if (frame.Bytes is { Length: > 0 } && verdict.Result != Verdict.Error) kept.Keep(frameId, frame.Bytes, verdict);
        recent.Add(verdict, overlay);
    }

    /// <summary>
    /// Writes the verdict to the outbox, waiting and retrying while that fails (a full or failing disk): the
    /// loop stays alive (heartbeat), says why, and continues once the disk takes writes again.
    /// </summary>
    private async Task StoreAsync(byte[] payload, string frameId, CancellationToken stop)
    {
        var since = Stopwatch.GetTimestamp();
        long lastReport = 0;
        bool stored = false; // in the JSON outbox; retries then only write the Sparkplug one
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                if (!stored) outbox.Append(topics.Verdict, payload);
                stored = true;
                sparkplug.Store(payload);
                if (attempt > 0)
                {
                    metrics.OutboxWritable(true);
                    logger.LogWarning("The outbox takes verdicts again after {Seconds:F0} s; scoring resumes", Stopwatch.GetElapsedTime(since).TotalSeconds);
                }
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                metrics.Heartbeat(); // waiting for the disk is not a hang
                metrics.OutboxWritable(false);
                if (attempt == 0 || Stopwatch.GetElapsedTime(since).TotalSeconds - lastReport >= 60)
                {
                    lastReport = (long)Stopwatch.GetElapsedTime(since).TotalSeconds;
                    logger.LogError("Cannot store the verdict of frame {Frame} in the outbox ({Reason}); scoring waits and retries, " +
                                    "frames stay with their sources until the state directory takes writes again", frameId, e.Message);
                    _ = broker.PublishTransientAsync(topics.Event, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
                    {
                        schema = "edgepatchcore.event/1", type = "outbox-unavailable", at = DateTime.UtcNow, message = Text.Cap(e.Message, Text.MaxError),
                        details = new Dictionary<string, string?> { ["frameId"] = frameId },
                    }), CancellationToken.None);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 << Math.Min(attempt, 6))), stop);
            }
        }
    }

    /// <summary>
    /// The defect's bounding box in frame pixels: map pixels at or above the threshold; when the
    /// smoothed map stays below it everywhere (the image score is re-weighted), the hottest spot
    /// (within 10% of the map's maximum).
    /// </summary>
    private static VerdictRegion? DefectRegion(ImageScore score, LoadedModel model, Item item)
    {
        var map = score.AnomalyMap;
        var geometry = model.Scorer.MapGeometry(item.FrameWidth, item.FrameHeight);
        var region = InputGeometry.RegionAbove(map, score.MapWidth, score.MapHeight, model.Threshold, geometry, item.FrameWidth, item.FrameHeight)
                     ?? InputGeometry.RegionAbove(map, score.MapWidth, score.MapHeight, 0.9f * map.Max(), geometry, item.FrameWidth, item.FrameHeight);
        return region is { } r ? new VerdictRegion(r.X, r.Y, r.Width, r.Height) : null;
    }

    /// <summary>
    /// The frame at its map's size blended with its anomaly map, as JPEG (for {prefix}/heatmap and the live page); a
    /// tiled model's megapixel map is shown at most <see cref="HeatmapMaxSide"/> pixels on its longer side.
    /// </summary>
    private static byte[] RenderHeatmap(Image<Rgb24> image, ImageScore score, LoadedModel model, string frameId)
    {
        using var overlay = HeatmapRenderer.Render(image, model.Scorer.MapGeometry(image.Width, image.Height), score, model.Threshold, frameId);
        if (overlay.Width > HeatmapMaxSide || overlay.Height > HeatmapMaxSide)
            overlay.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(HeatmapMaxSide, HeatmapMaxSide), Mode = SixLabors.ImageSharp.Processing.ResizeMode.Max }));
        using var jpeg = new MemoryStream();
        overlay.SaveAsJpeg(jpeg);
        return jpeg.ToArray();
    }
}
