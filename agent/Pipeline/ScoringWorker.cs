using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The one scorer per device: takes whatever frames are queued (<see cref="FrameQueue.TakeBatch"/>), decodes them in parallel, scores each product's
/// frames in one batch, and hands each frame with its verdict
/// to the <see cref="SinkChain"/> (the outboxes first; the frame counts as done only once they hold its verdict). Every
/// frame fails alone: a frame that cannot be decoded or scored, or whose score is not a finite number, gets an "error"
/// verdict with the reason, and the others in its batch are scored as usual.
/// </summary>
public sealed class ScoringWorker(
    IOptions<AgentOptions> options, FrameQueue queue, ModelStore.ModelStore models, SinkChain sinks, AgentMetrics metrics,
        ILogger<ScoringWorker> logger)
    : BackgroundService
{
    private readonly ImageLoader _loader = new(options.Value.Limits.ToImageLimits());
    private readonly PipelineOptions _pipeline = options.Value.Pipeline;
    private readonly bool _keepImages = sinks.UsesHeatmaps;
    private float[] _inputs = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await models.InitialLoad.WaitAsync(stoppingToken); // frames wait for the first model rather than fail
        Task<bool>? wait = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            metrics.Heartbeat();
            wait ??= queue.Reader.WaitToReadAsync(stoppingToken).AsTask();
            try
            {
                if (!wait.IsCompleted && await Task.WhenAny(wait, Task.Delay(1000,
                    stoppingToken)) != wait) continue; // idle: keep the heartbeat going
                if (!await wait) break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            wait = null;
            var items = queue.TakeBatch(_pipeline.MaxBatch, _pipeline.MaxBatchBytes).Select(f => new BatchItem(f)).ToArray();
            if (items.Length == 0) continue;
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
            }
        }
    }

    private async Task ProcessAsync(BatchItem[] items, CancellationToken stop)
    {
        foreach (var item in items)
        {
            if (item.Frame.RejectReason is { } reason) item.Error = reason;
            else item.Model = models.Acquire(item.Frame.Product, out item.Error);
        }
        foreach (var group in items.Where(i => i.Model is not null).GroupBy(i => i.Model!))
        {
            if (group.Key.Scorer.Tiling is not null) ScoreTiled(group.Key, [.. group]);
            else ScoreWhole(group.Key, [.. group]);
        }
        foreach (var item in items) await FinishAsync(item, stop);
    }

    /// <summary>Whole-frame models: decoded in parallel into one input batch, scored in one call (one at a time if that fails).</summary>
    private void ScoreWhole(LoadedModel model, BatchItem[] items)
    {
        int length = model.Scorer.Features.InputLength;
        if (_inputs.Length < items.Length * length) _inputs = new float[items.Length * length];
        var inputs = _inputs;
        // A camera's frame keeps its picture until the sinks are through: it is the frame's only copy (no encoded bytes).
        Parallel.For(0, items.Length, i => Decode(items[i], _keepImages || items[i].Frame.Pixels is not null,
            image => ImageLoader.ToInput(image, model.Input, inputs.AsSpan(i * length, length), items[i].Frame.Id)));
        var good = new List<BatchItem>(items.Length); // decoded frames to the front, in order, so that one call scores them all
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i].Error is not null) continue;
            if (good.Count != i) inputs.AsSpan(i * length, length).CopyTo(inputs.AsSpan(good.Count * length, length));
            good.Add(items[i]);
        }
        if (good.Count == 0 || Score(model, good, () => model.Scorer.Score(inputs.AsMemory(0, good.Count * length), good.Count))
            || good.Count == 1) return;
        logger.LogWarning("Scoring a batch of {Count} with model {Model} failed; scoring its frames one at a time", good.Count, model.Id);
        for (int i = 0; i < good.Count; i++)
        {
            int at = i;
            Score(model, [good[at]], () => model.Scorer.Score(inputs.AsMemory(at * length, length), 1));
        }
    }

    /// <summary>Tiled models: decoded in parallel, then scored one frame at a time (a frame is already a batch of tiles).</summary>
    private void ScoreTiled(LoadedModel model, BatchItem[] items)
    {
        Parallel.For(0, items.Length, i => Decode(items[i], keep: true));
        foreach (var item in items.Where(i => i.Error is null && i.Image is not null))
        {
            Score(model, [item], () => [model.Scorer.ScoreFrame(item.Image!, item.Frame.Id)]);
            if (_keepImages || item.Frame.Pixels is not null) continue; // a camera's frame keeps its only copy for the sinks
            item.Image!.Dispose();
            item.Image = null;
        }
    }

    /// <summary>Runs <paramref name="score"/> for <paramref name="items"/>; on failure each gets the reason (false).</summary>
    private bool Score(LoadedModel model, List<BatchItem> items, Func<IReadOnlyList<ImageScore>> score)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var scores = score();
            double perFrame = Stopwatch.GetElapsedTime(start).TotalMilliseconds / items.Count;
            for (int i = 0; i < items.Count; i++) (items[i].Score, items[i].InferMs, items[i].Error) = (scores[i], perFrame, null);
            return true;
        }
        catch (Exception e)
        {
            if (e is not ImageLoadException) logger.LogError("Scoring failed with model {Model}: {Type}: {Reason}", model.Id, e.GetType().Name,
                e.Message);
            foreach (var item in items) item.Error = e is ImageLoadException ? e.Message : $"scoring failed: {e.Message}";
            return false;
        }
    }

    /// <summary>Decodes a frame, then <paramref name="prepare"/>s it (the network input); any failure fails this frame only.</summary>
    private void Decode(BatchItem item, bool keep, Action<Image<Rgb24>>? prepare = null)
    {
        long start = Stopwatch.GetTimestamp();
        Image<Rgb24>? image = null;
        try
        {
            image = item.Frame.Pixels ?? _loader.Decode(item.Frame.Bytes, item.Frame.Id); // a camera's frame comes as RGB already
            (item.FrameWidth, item.FrameHeight) = (image.Width, image.Height);
            prepare?.Invoke(image);
            if (keep) (item.Image, image) = (image, null);
        }
        catch (ImageLoadException e) { item.Error = e.Message; }
        catch (Exception e) // a resize or conversion failure (out of memory included) fails this frame only
        {
            item.Error = $"{item.Frame.Id}: cannot prepare the image ({e.GetType().Name}: {e.Message})";
        }
        finally { image?.Dispose(); }
        item.DecodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>The frame's verdict, counted, handed to the sinks.</summary>
    private async Task FinishAsync(BatchItem item, CancellationToken stop)
    {
        double total = Stopwatch.GetElapsedTime(item.Frame.ReceivedTimestamp).TotalMilliseconds;
        var latency = new VerdictLatency(Math.Round(item.DecodeMs, 3), Math.Round(item.InferMs, 3), Math.Round(total, 3));
        var verdict = VerdictFactory.Create(item.Frame, item.Model, item.Score, item.Error, latency, item.FrameWidth, item.FrameHeight);
        if (verdict.Result == Verdict.Error)
        {
            metrics.FrameError();
            logger.LogWarning("Frame {Frame} from {Source}: {Reason}", verdict.FrameId, item.Frame.Source, verdict.ErrorText);
        }
        else metrics.FrameScored(verdict.Result == Verdict.Defect, total);
        var scored = new ScoredFrame
        {
            Frame = item.Frame, Verdict = verdict, VerdictJson = verdict.ToJson(), Model = item.Model,
            Score = verdict.Result == Verdict.Error ? null : item.Score, Image = item.Image,
        };
        await sinks.DeliverAsync(scored, stop);
        item.Done = true;
        if (scored.HeatmapError is { } why) logger.LogWarning("Heat map for {Frame} not rendered: {Reason}", verdict.FrameId, why);
    }
}
