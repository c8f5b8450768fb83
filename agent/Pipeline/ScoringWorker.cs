using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The one scorer per device: takes whatever frames are queued (up to MaxBatch), decodes them in
/// parallel, scores each product's frames in one batch, and stores one verdict per frame in the outbox
/// before telling the source the frame is done. A frame that cannot be scored gets an "error" verdict
/// with the reason; nothing here stops the loop.
/// </summary>
public sealed class ScoringWorker(
    IOptions<AgentOptions> options, FrameQueue queue, ModelStore.ModelStore models, ArtifactWatcher watcher,
    Outbox outbox, TopicNames topics, BrokerConnection broker, AgentMetrics metrics, ILogger<ScoringWorker> logger) : BackgroundService
{
    private readonly ImageLoader _loader = new(new ImageLimits
    {
        MaxBytes = options.Value.Limits.MaxFrameBytes, MaxPixels = options.Value.Limits.MaxPixels, AcceptTiff = options.Value.Limits.AcceptTiff,
    });
    private readonly bool _heatmaps = options.Value.Publishing.Heatmaps;
    private float[] _inputs = [];

    private sealed class Item(Frame frame)
    {
        public Frame Frame { get; } = frame;
        public LoadedModel? Model;
        public string? Error;
        public double DecodeMs, InferMs;
        public int FrameWidth, FrameHeight;
        public Image<Rgb24>? Image; // kept only for heat maps
        public ImageScore? Score;
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
            if (!wait.IsCompleted && await Task.WhenAny(wait, Task.Delay(1000, stoppingToken)) != wait) continue; // idle: keep the heartbeat going
            if (!await wait) break;
            wait = null;
            while (batch.Count < maxBatch && queue.Reader.TryRead(out var frame)) batch.Add(frame);
            if (batch.Count == 0) continue;
            try
            {
                Process(batch);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug or a native failure must not stop the line: report the frames and carry on.
                logger.LogError(e, "Unexpected failure scoring {Count} frame(s)", batch.Count);
                foreach (var frame in batch)
                {
                    metrics.FrameError();
                    frame.Completion?.Dropped();
                }
            }
            finally
            {
                batch.Clear();
            }
        }
    }

    private void Process(List<Frame> frames)
    {
        var items = frames.Select(f => new Item(f)).ToArray();
        try
        {
            foreach (var item in items)
            {
                if (item.Frame.RejectReason is { } reason) item.Error = reason;
                else item.Model = models.Acquire(item.Frame.Product, out item.Error);
            }
            foreach (var group in items.Where(i => i.Model is not null).GroupBy(i => i.Model!))
                ScoreGroup(group.Key, group.ToArray());
            foreach (var item in items) Finish(item);
        }
        finally
        {
            foreach (var item in items)
            {
                item.Model?.Release();
                item.Image?.Dispose();
            }
        }
    }

    private void ScoreGroup(LoadedModel model, Item[] items)
    {
        int inputLength = model.Scorer.Features.InputLength;
        if (_inputs.Length < items.Length * inputLength) _inputs = new float[items.Length * inputLength];
        var inputs = _inputs;
        Parallel.For(0, items.Length, i =>
        {
            var item = items[i];
            long start = Stopwatch.GetTimestamp();
            try
            {
                var image = _loader.Decode(item.Frame.Bytes, item.Frame.Id);
                item.FrameWidth = image.Width;
                item.FrameHeight = image.Height;
                ImageLoader.ToInput(image, model.Input, inputs.AsSpan(i * inputLength, inputLength), item.Frame.Id);
                if (_heatmaps) item.Image = image; else image.Dispose();
            }
            catch (ImageLoadException e)
            {
                item.Error = e.Message;
            }
            item.DecodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        });

        // Good frames to the front, in order, so that one call scores them all.
        var good = new List<Item>(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i].Error is not null) continue;
            if (good.Count != i) inputs.AsSpan(i * inputLength, inputLength).CopyTo(inputs.AsSpan(good.Count * inputLength, inputLength));
            good.Add(items[i]);
        }
        if (good.Count == 0) return;
        long inferStart = Stopwatch.GetTimestamp();
        try
        {
            var scores = model.Scorer.Score(inputs.AsMemory(0, good.Count * inputLength), good.Count);
            double perFrame = Stopwatch.GetElapsedTime(inferStart).TotalMilliseconds / good.Count;
            for (int i = 0; i < good.Count; i++)
            {
                good[i].Score = scores[i];
                good[i].InferMs = perFrame;
            }
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException or ArgumentException)
        {
            logger.LogError("Scoring failed with model {Model}: {Reason}", model.Id, e.Message);
            foreach (var item in good) item.Error = "scoring failed: " + e.Message;
        }
    }

    private void Finish(Item item)
    {
        var frame = item.Frame;
        var model = item.Model;
        var score = item.Score;
        double total = Stopwatch.GetElapsedTime(frame.ReceivedTimestamp).TotalMilliseconds;
        var latency = new VerdictLatency(Math.Round(item.DecodeMs, 3), Math.Round(item.InferMs, 3), Math.Round(total, 3));
        Verdict verdict;
        if (score is null || model is null)
        {
            verdict = new Verdict
            {
                FrameId = frame.Id, Source = frame.Source, Product = model?.Product ?? frame.Product,
                Model = model is null ? null : new VerdictModel(model.Id, model.CreatedAtUtc),
                CapturedAt = frame.CapturedAt, ScoredAt = DateTimeOffset.UtcNow, Result = Verdict.Error,
                Threshold = model?.Threshold, LatencyMs = latency, ErrorText = item.Error ?? "not scored",
            };
            metrics.FrameError();
            logger.LogWarning("Frame {Frame} from {Source}: {Reason}", frame.Id, frame.Source, verdict.ErrorText);
        }
        else
        {
            bool defect = score.Score >= model.Threshold;
            verdict = new Verdict
            {
                FrameId = frame.Id, Source = frame.Source, Product = model.Product,
                Model = new VerdictModel(model.Id, model.CreatedAtUtc),
                CapturedAt = frame.CapturedAt, ScoredAt = DateTimeOffset.UtcNow,
                Result = defect ? Verdict.Defect : Verdict.Ok,
                Score = score.Score, Threshold = model.Threshold, NormalizedScore = score.Score / model.Threshold,
                Region = defect ? DefectRegion(score, model, item) : null,
                LatencyMs = latency,
            };
            metrics.FrameScored(defect, total);
        }

        try
        {
            outbox.Append(topics.Verdict, verdict.ToJson());
        }
        catch (IOException e)
        {
            // The state directory is full or failing: publish straight away so SCADA still sees it, and
            // leave the frame with its source (not acknowledged, not moved) so it is not lost.
            logger.LogError("Cannot write the outbox ({Reason}); frame {Frame} stays with its source", e.Message, frame.Id);
            return;
        }
        frame.Completion?.Completed(verdict);
        if (verdict.Result == Verdict.Defect && item.Image is not null && score is not null && model is not null)
            PublishHeatmap(item.Image, score, model, frame.Id);
    }

    /// <summary>
    /// The defect's bounding box in frame pixels: map pixels at or above the threshold; when the
    /// smoothed map stays below it everywhere (the image score is re-weighted), the hottest spot
    /// (within 10% of the map's maximum).
    /// </summary>
    private static VerdictRegion? DefectRegion(ImageScore score, LoadedModel model, Item item)
    {
        var map = score.AnomalyMap;
        var region = InputGeometry.RegionAbove(map, score.MapWidth, score.MapHeight, model.Threshold, model.Input, item.FrameWidth, item.FrameHeight)
                     ?? InputGeometry.RegionAbove(map, score.MapWidth, score.MapHeight, 0.9f * map.Max(), model.Input, item.FrameWidth, item.FrameHeight);
        return region is { } r ? new VerdictRegion(r.X, r.Y, r.Width, r.Height) : null;
    }

    private void PublishHeatmap(Image<Rgb24> image, ImageScore score, LoadedModel model, string frameId)
    {
        using var overlay = HeatmapRenderer.Render(image, model.Input, score, model.Threshold, frameId);
        using var jpeg = new MemoryStream();
        overlay.SaveAsJpeg(jpeg);
        _ = broker.PublishTransientAsync(topics.Heatmap, jpeg.ToArray(), CancellationToken.None, frameId);
    }
}
