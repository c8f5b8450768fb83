using System.Text.Json;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Pipeline;
using Microsoft.Extensions.Options;
using EdgePatchCore.Messaging;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>Publishes counters, latency percentiles and queue depths on {prefix}/metrics every N seconds (and logs them).</summary>
public sealed class MetricsPublisher(
    IOptions<AgentOptions> options, IPipelineCounters metrics, Outbox outbox, IServedModels models,
    BrokerConnection broker, TopicNames topics, ILogger<MetricsPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.Publishing.MetricsIntervalSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var latency = metrics.LatencyPercentiles();
            long memory = Environment.WorkingSet;
            var payload = JsonSerializer.SerializeToUtf8Bytes(new
            {
                schema = "edgepatchcore.metrics/1",
                at = DateTime.UtcNow,
                framesIn = metrics.FramesIn,
                scored = metrics.Scored,
                defects = metrics.Defects,
                dropped = metrics.Dropped,
                errors = metrics.Errors,
                latencyMs = latency is { } l ? new { p50 = Math.Round(l.P50, 2), p95 = Math.Round(l.P95, 2) } : null,
                queueDepth = metrics.QueueDepth,
                outboxPending = outbox.Count,
                outboxDiscarded = outbox.Discarded,
                outboxBytes = outbox.Bytes,
                outboxSetAside = outbox.SetAsideCount,
                outboxWritable = metrics.IsOutboxWritable,
                models = models.Snapshot().Select(m => m.Id).ToArray(),
                residentBytes = memory,
            });
            logger.LogInformation("frames in {In}, scored {Scored} ({Defects} defect), dropped {Dropped}, errors {Errors}, p50/p95 " +
                "{P50:F1}/{P95:F1} ms, queue {Queue}, outbox {Outbox}, RSS {Rss} MiB",
                metrics.FramesIn, metrics.Scored, metrics.Defects, metrics.Dropped, metrics.Errors, latency?.P50 ?? 0, latency?.P95 ?? 0,
                metrics.QueueDepth, outbox.Count, memory >> 20);
            await broker.PublishTransientAsync(topics.Metrics, payload, stoppingToken);
        }
    }
}
