using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Options;
using EdgePatchCore.Messaging;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Web;

/// <summary>
/// What the live page, /metrics and /healthz read from the running agent: the narrow view the web
/// server gets of the pipeline (it never touches the scorer, the queue's frames or the outbox's messages).
/// </summary>
public sealed class LiveState(
    IOptions<AgentOptions> options, AgentMetrics metrics, FrameQueue queue, Outbox outbox,
    ModelStore.ModelStore models, BrokerConnection broker, RecentFrames recent, DropCounter drops, IEnumerable<IDeviceStatus> devices)
{
    /// <summary>The scoring loop beats at least once a second; this much silence means it is stuck.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(30);
    /// <summary>Verdicts waiting for the broker longer than this make the agent degraded: SCADA is not hearing from it.</summary>
    public static readonly TimeSpan OutboxAgeLimit = TimeSpan.FromSeconds(30);

    public DropCounter Drops => drops;

    public AgentMetrics Metrics => metrics;
    public FrameQueue Queue => queue;
    public Outbox Outbox => outbox;
    public RecentFrames Recent => recent;
    public BrokerConnection Broker => broker;
    public IReadOnlyList<ModelStore.ModelSummary> Models() => models.Snapshot();

    public LiveSnapshot Snapshot()
    {
        var o = options.Value;
        var latency = metrics.LatencyPercentiles();
        // Newest first; the page filters by verdict.
        var frames = recent.Snapshot()
            .Select(f => new LiveFrame(f.Number, f.Verdict.FrameId, f.Verdict.Source, f.Verdict.Product, f.Verdict.Result,
                                       f.Verdict.Score, f.Verdict.Threshold, f.Verdict.NormalizedScore, f.Verdict.ScoredAt,
                                       f.Verdict.LatencyMs.Total, f.Verdict.ErrorText, f.Overlay is null ? null : $"frames/{f.Number}.jpg"))
            .ToList();
        var health = Health();
        return new LiveSnapshot(
            DateTimeOffset.UtcNow, o.DeviceId, BrokerConnection.Version, health.Status, [.. health.Problems, .. health.Degraded],
            new LiveCounters(metrics.FramesIn, metrics.Scored, metrics.Defects, metrics.Errors, metrics.Dropped),
            latency is { } l ? new LiveLatency(Math.Round(l.P50, 1), Math.Round(l.P95, 1), l.Frames, AgentMetrics.LatencyWindow.TotalMinutes) : null,
            queue.Count,
            new LiveOutbox(outbox.Count, outbox.Bytes, metrics.IsOutboxWritable, health.OutboxAgeSeconds),
            new LiveBroker(string.IsNullOrWhiteSpace(o.Broker.Host) ? null : $"{o.Broker.Host}:{o.Broker.Port}", broker.IsConnected),
            Models().Select(m => new LiveModel(m.Id, m.Product, m.Threshold, m.Device, m.CreatedAt, m.SignedBy, m.Release, m.ParentId)).ToList(),
            frames, devices.Select(d => new LiveDevice(d.Name, d.Problem, d.Counters)).ToList());
    }

    /// <summary>
    /// Unhealthy: the agent cannot do its job (the scoring loop is stuck, the outbox cannot be written, no model).
    /// Degraded: it inspects, and keeps every verdict, but SCADA is not getting them (the broker is unreachable, or
    /// verdicts have waited in the outbox longer than <see cref="OutboxAgeLimit"/>).
    /// </summary>
    public HealthReport Health()
    {
        var problems = new List<string>();
        if (metrics.SinceHeartbeat > StallLimit) problems.Add($"the scoring loop has not made progress for " +
            $"{metrics.SinceHeartbeat.TotalSeconds:F0} s");
        if (!metrics.IsOutboxWritable) problems.Add("the outbox cannot be written (state directory full or failing)");
        if (models.Snapshot().Count == 0) problems.Add("no model is loaded");
        var degraded = new List<string>();
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.Broker.Host) && !broker.IsConnected)
            degraded.Add($"the broker {o.Broker.Host}:{o.Broker.Port} is unreachable: verdicts wait in the outbox ({outbox.Count})");
        var age = outbox.OldestAge;
        foreach (var d in devices) if (d.Problem is { } problem) degraded.Add($"{d.Name}: {problem}");
        if (age > OutboxAgeLimit) degraded.Add($"{outbox.Count} message(s) have waited for the broker for up to {age.Value.TotalSeconds:F0} s");
        string status = problems.Count > 0 ? "unhealthy" : degraded.Count > 0 ? "degraded" : "ok";
        return new HealthReport(status, problems, degraded, age is { } a ? Math.Round(a.TotalSeconds, 1) : null);
    }
}
