using System.Diagnostics;
using System.Threading.Channels;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The one scorer per device, in two stages that run at the same time: the <see cref="BatchDecoder"/> takes whatever frames are
/// queued (<see cref="FrameQueue.TakeBatch"/>) and decodes them in parallel while the batch before is scored, so the next frames'
/// decode overlaps the current ones' inference; the scorer scores each product's frames in one batch and hands each frame with
/// its verdict to the <see cref="SinkChain"/> (the outboxes first; the frame counts as done only once they hold its verdict). At
/// most two batches are held at once, one scored and one decoded, their decoded bytes together within Agent:Pipeline:MaxBatchBytes
/// (a frame larger than that alone is decoded only once nothing else is held).
/// Every frame fails alone: a frame that cannot be decoded or scored, or whose score is not a finite number, gets an "error"
/// verdict with the reason, and the others in its batch are scored as usual.
/// </summary>
public sealed class ScoringWorker(
    IOptions<AgentOptions> options, FrameQueue queue, ModelStore.ModelStore models, SinkChain sinks, AgentMetrics metrics,
        ILogger<ScoringWorker> logger)
    : BackgroundService
{
    private readonly PipelineOptions _pipeline = options.Value.Pipeline;
    private readonly BatchDecoder _decoder = new(options.Value.Limits, models, sinks.UsesHeatmaps);
    private readonly bool _keepImages = sinks.UsesHeatmaps;
    private long _heldBytes;      // decoded bytes of the batches alive (decoded or being scored)
    private int _decoding;        // 1 while the decoder works on a batch
    private readonly SemaphoreSlim _released = new(0); // a batch was scored and let go: room for the next

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await models.InitialLoad.WaitAsync(stoppingToken); // frames wait for the first model rather than fail
        var decoded = Channel.CreateBounded<DecodedBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stopDecoding = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var decoding = Task.Run(() => DecodeLoopAsync(decoded.Writer, stopDecoding.Token), CancellationToken.None);
        try { await ScoreLoopAsync(decoded.Reader, stoppingToken); }
        finally
        {
            await stopDecoding.CancelAsync();
            try { await decoding; }
            catch (OperationCanceledException) { }
            // Decoded, never scored: their frames stay with their sources (folder: in place; MQTT: unacknowledged).
            while (decoded.Reader.TryRead(out var left)) Release(left);
        }
    }

    /// <summary>Stage 1: waits until the scorer has taken the last decoded batch, then takes and decodes the next.</summary>
    private async Task DecodeLoopAsync(ChannelWriter<DecodedBatch> decoded, CancellationToken stop)
    {
        while (await decoded.WaitToWriteAsync(stop) && await queue.Reader.WaitToReadAsync(stop))
        {
            long held = Interlocked.Read(ref _heldBytes);
            if (held > 0 && held + queue.NextDecodedBytes() > _pipeline.MaxBatchBytes)
            {
                await _released.WaitAsync(stop); // no room beside the batch being scored: decode once it is done
                continue;
            }
            var frames = queue.TakeBatch(_pipeline.MaxBatch, _pipeline.MaxBatchBytes - held, out long bytes);
            if (frames.Count == 0) continue;
            metrics.BatchHeld(Interlocked.Add(ref _heldBytes, bytes));
            var items = frames.Select(f => new BatchItem(f)).ToArray();
            DecodedBatch batch;
            Interlocked.Exchange(ref _decoding, 1);
            try { batch = _decoder.Decode(items, bytes); }
            catch (Exception e)
            {
                // A bug or a native failure must not stop the line: the frames go on to get an error verdict each.
                logger.LogError(e, "Unexpected failure decoding {Count} frame(s)", items.Length);
                foreach (var item in items)
                    item.Error ??= Text.Cap($"internal error while decoding: {e.GetType().Name}: {e.Message}", Text.MaxError);
                batch = new DecodedBatch(items, [], bytes);
            }
            finally { Interlocked.Exchange(ref _decoding, 0); }
            try { await decoded.WriteAsync(batch, stop); }
            catch
            {
                Release(batch);
                throw;
            }
        }
    }

    /// <summary>Stage 2: scores each decoded batch and hands its frames to the sinks.</summary>
    private async Task ScoreLoopAsync(ChannelReader<DecodedBatch> decoded, CancellationToken stoppingToken)
    {
        Task<bool>? wait = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Waiting on a decode in progress is not progress: a decoder that hangs stops the heartbeat as a scorer that hangs does.
            if (Volatile.Read(ref _decoding) == 0 || wait is null) metrics.Heartbeat();
            wait ??= decoded.WaitToReadAsync(stoppingToken).AsTask();
            try
            {
                if (!wait.IsCompleted && await Task.WhenAny(wait, Task.Delay(1000,
                    stoppingToken)) != wait) continue; // idle: keep the heartbeat going
                if (!await wait) break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            wait = null;
            if (!decoded.TryRead(out var batch)) continue;
            metrics.Heartbeat();
            try
            {
                await ScoreAsync(batch, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break; // frames without a stored verdict stay with their sources (folder: in place; MQTT: unacknowledged)
            }
            catch (Exception e)
            {
                // A bug or a native failure must not stop the line: every frame still gets a verdict.
                logger.LogError(e, "Unexpected failure scoring {Count} frame(s)", batch.Items.Length);
                foreach (var item in batch.Items.Where(i => !i.Done))
                {
                    item.Score = null;
                    item.Error = Text.Cap($"internal error while scoring: {e.GetType().Name}: {e.Message}", Text.MaxError);
                    try { await FinishAsync(item, stoppingToken); }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                    catch (Exception again) { logger.LogError(again, "Cannot report frame {Frame}", item.Frame.Id); }
                }
            }
            finally { Release(batch); }
        }
    }

    public override void Dispose()
    {
        _released.Dispose();
        base.Dispose();
    }

    private void Release(DecodedBatch batch)
    {
        batch.Dispose();
        Interlocked.Add(ref _heldBytes, -batch.HeldBytes);
        _released.Release();
    }

    private async Task ScoreAsync(DecodedBatch batch, CancellationToken stop)
    {
        foreach (var group in batch.Groups)
        {
            if (group.Inputs is { } inputs) ScoreWhole(group.Model, group.Items, inputs);
            else ScoreTiled(group.Model, group.Items);
        }
        foreach (var item in batch.Items) await FinishAsync(item, stop);
    }

    /// <summary>Whole-frame models: the decoded inputs (items x input length) scored in one call (one at a time if that fails).</summary>
    private void ScoreWhole(LoadedModel model, BatchItem[] items, float[] inputs)
    {
        int length = model.Scorer.Features.InputLength;
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

    /// <summary>Tiled models: scored one frame at a time (a frame is already a batch of tiles).</summary>
    private void ScoreTiled(LoadedModel model, BatchItem[] items)
    {
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
