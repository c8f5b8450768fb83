using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// One Sparkplug device (a product): its last verdict, its frame counters and latency, as published. The
/// counters count the verdicts this edge node has published for the device since the agent started, so they
/// agree with the DDATA a host received (after an outage they catch up as the stored verdicts are replayed).
/// </summary>
public sealed class DeviceState(string product, int number, bool triggered = false)
{
    /// <summary>Whether the device has the handshake's metrics (a triggered camera serves it).</summary>
    public bool Triggered { get; } = triggered;
    private Triggers.InspectionResult? _answer;
    public string Product { get; } = product;
    public string DeviceId { get; } = SparkplugTopics.DeviceIdOf(product);
    public DeviceMetrics Metrics { get; } = new(number);

    private Verdict? _last;
    private long _ok, _defect, _error;
    private readonly Queue<(DateTimeOffset At, double Ms)> _latencies = new();
    private (string FrameId, byte[] Jpeg)? _heatmap;

    /// <summary>Dropped frames as last published (they are counted by the queue, not by verdicts).</summary>
    public long Dropped { get; set; }

    /// <summary>Counts the verdict and makes it the device's current one; returns the metrics that changed, with their values.</summary>
    public List<(MetricDefinition Metric, object? Value)> Apply(Verdict v, byte[]? heatmap)
    {
        switch (v.Result)
        {
            case Verdict.Ok: _ok++; break;
            case Verdict.Defect: _defect++; break;
            default: _error++; break;
        }
        _latencies.Enqueue((v.ScoredAt, v.LatencyMs.Total));
        while (_latencies.Count > 4096 || _latencies.Peek().At < v.ScoredAt - Pipeline.AgentMetrics.LatencyWindow) _latencies.Dequeue();
        _last = v;
        var changed = VerdictValues();
        changed.Add((Metrics.Ok, (ulong)_ok));
        changed.Add((Metrics.Defect, (ulong)_defect));
        changed.Add((Metrics.Errors, (ulong)_error));
        var (p50, p95) = Latency();
        changed.Add((Metrics.LatencyP50, p50));
        changed.Add((Metrics.LatencyP95, p95));
        if (heatmap is not null)
        {
            _heatmap = (v.FrameId, heatmap);
            changed.Add((Metrics.LastDefectHeatmap, heatmap));
        }
        return changed;
    }

    /// <summary>A verdict's own metrics (no counters), for a verdict published again after a lost connection.</summary>
    public List<(MetricDefinition Metric, object? Value)> Replay(Verdict v) => VerdictValues(v);

    /// <summary>Every metric with its current value, for DBIRTH (null: no verdict yet); the heat map only when asked.</summary>
    public List<(MetricDefinition Metric, object? Value)> Birth(bool withHeatmap = true)
    {
        var all = VerdictValues();
        all.Add((Metrics.Ok, (ulong)_ok));
        all.Add((Metrics.Defect, (ulong)_defect));
        all.Add((Metrics.Errors, (ulong)_error));
        all.Add((Metrics.Dropped, (ulong)Dropped));
        var (p50, p95) = Latency();
        all.Add((Metrics.LatencyP50, p50));
        all.Add((Metrics.LatencyP95, p95));
        if (withHeatmap) all.Add((Metrics.LastDefectHeatmap, _heatmap?.Jpeg));
        if (Triggered) all.AddRange([(Metrics.Inspect, ""), .. AnswerValues()]); // a command: it has no value of its own
        return all;
    }

    /// <summary>The handshake's answer for a part of this device; returns the metrics that changed.</summary>
    public List<(MetricDefinition Metric, object? Value)> Answer(Triggers.InspectionResult result)
    {
        _answer = result;
        return AnswerValues();
    }

    private List<(MetricDefinition, object?)> AnswerValues() =>
    [
        (Metrics.PartId, _answer?.PartId), (Metrics.Result, _answer?.Result), (Metrics.Reason, _answer is null ? null : _answer.Reason ?? ""),
        (Metrics.TriggerToResult, _answer?.TriggerToResultMs),
    ];

    private List<(MetricDefinition, object?)> VerdictValues(Verdict? v = null)
    {
        v ??= _last;
        return
        [
            (Metrics.Verdict, v?.Result),
            (Metrics.Score, v?.Score),
            (Metrics.Threshold, v?.Threshold),
            (Metrics.NormalizedScore, v?.NormalizedScore),
            (Metrics.ModelId, v?.Model?.Id),
            (Metrics.FrameId, v?.FrameId),
            (Metrics.Error, v is null ? null : v.ErrorText ?? ""),
            (Metrics.ScoredAt, v?.ScoredAt),
        ];
    }

    /// <summary>Median and 95th percentile of this device's recent latencies (one sort); nulls before the first verdict.</summary>
    private (double? P50, double? P95) Latency()
    {
        if (_latencies.Count == 0) return (null, null);
        var p = Percentile.Many(_latencies.Select(l => l.Ms), 0.5, 0.95);
        return (Math.Round(p[0], 2), Math.Round(p[1], 2));
    }
}
