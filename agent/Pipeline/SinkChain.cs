using System.Diagnostics;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// Hands a scored frame to every registered <see cref="IScoredFrameSink"/>, in this order: the durable sinks (the
/// outboxes), each retried while it cannot store the verdict (a full or failing disk: scoring waits, says why once a
/// minute and keeps the heartbeat, and the frame stays with its source, so nothing accepted is lost); then the frame's
/// source is told it is done; then the best-effort sinks, whose failures are logged and go no further.
/// </summary>
public sealed class SinkChain(IEnumerable<IScoredFrameSink> sinks, AgentMetrics metrics, ITransientPublisher broker, TopicNames topics,
    ILogger<SinkChain> logger)
{
    private readonly IScoredFrameSink[] _durable = sinks.Where(s => s.Kind == SinkKind.Durable).ToArray();
    private readonly IScoredFrameSink[] _bestEffort = sinks.Where(s => s.Kind == SinkKind.BestEffort).ToArray();

    /// <summary>Whether any sink renders heat maps: then the worker keeps decoded frames until the sinks are through.</summary>
    public bool UsesHeatmaps => _durable.Concat(_bestEffort).Any(s => s.UsesHeatmaps);

    /// <summary>Delivers <paramref name="frame"/>; returns once the durable sinks hold it and its source was told.</summary>
    public async Task DeliverAsync(ScoredFrame frame, CancellationToken stop)
    {
        foreach (var sink in _durable) await StoreAsync(sink, frame, stop);
        try { frame.Frame.Completion?.Completed(frame.Verdict); }
        catch (Exception e) // acknowledging or moving the file must never stop the loop
        {
            logger.LogWarning("Frame {Frame}: its source could not be told it is done ({Reason})", frame.Verdict.FrameId, e.Message);
        }
        foreach (var sink in _bestEffort)
        {
            try { await sink.AcceptAsync(frame, stop); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Frame {Frame}: {Sink} failed ({Reason})", frame.Verdict.FrameId, sink.GetType().Name, e.Message);
            }
        }
    }

    private async Task StoreAsync(IScoredFrameSink sink, ScoredFrame frame, CancellationToken stop)
    {
        var since = Stopwatch.GetTimestamp();
        long lastReport = 0;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await sink.AcceptAsync(frame, stop);
                if (attempt > 0)
                {
                    metrics.OutboxWritable(true);
                    logger.LogWarning("The outbox takes verdicts again after {Seconds:F0} s; scoring resumes",
                        Stopwatch.GetElapsedTime(since).TotalSeconds);
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
                                    "frames stay with their sources until the state directory takes writes again", frame.Verdict.FrameId, e.Message);
                    // Straight to the broker: the outbox is what fails.
                    _ = broker.PublishTransientAsync(topics.Event, AgentEvents.Json("outbox-unavailable", e.Message,
                        new() { ["frameId"] = frame.Verdict.FrameId }),
                                                     CancellationToken.None);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 << Math.Min(attempt, 6))), stop);
            }
        }
    }
}
