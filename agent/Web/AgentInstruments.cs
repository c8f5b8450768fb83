using System.Diagnostics.Metrics;

using EdgePatchCore.Agent.Mqtt;

namespace EdgePatchCore.Agent.Web;

/// <summary>
/// The agent's counters as System.Diagnostics.Metrics instruments (meter "EdgePatchCore.Agent"), observed
/// from <see cref="LiveState"/> when scraped; /metrics exports them in Prometheus text format
/// (edgepatchcore_frames_scored_total, ...; docs/AGENT-PAGE.md lists them).
/// </summary>
public sealed class AgentInstruments
{
    public const string MeterName = "EdgePatchCore.Agent";

    public AgentInstruments(IMeterFactory factory, LiveState state)
    {
        var meter = factory.Create(MeterName, BrokerConnection.Version);
        var m = state.Metrics;
        meter.CreateObservableCounter("edgepatchcore.frames.received", () => m.FramesIn, "{frame}", "Frames taken from the sources");
        meter.CreateObservableCounter("edgepatchcore.frames.scored", () => m.Scored, "{frame}", "Frames scored (ok or defect)");
        meter.CreateObservableCounter("edgepatchcore.frames.defect", () => m.Defects, "{frame}", "Frames judged defect");
        meter.CreateObservableCounter("edgepatchcore.frames.error", () => m.Errors, "{frame}", "Frames that got an error verdict");
        meter.CreateObservableCounter("edgepatchcore.frames.dropped", () => m.Dropped, "{frame}", "Frames dropped by a full queue");
        meter.CreateObservableGauge("edgepatchcore.queue.depth", () => state.Queue.Count, "{frame}", "Frames waiting for the scorer");
        meter.CreateObservableGauge("edgepatchcore.outbox.pending", () => state.Outbox.Count, "{message}", "Messages waiting for the broker");
        meter.CreateObservableGauge("edgepatchcore.outbox.bytes", () => state.Outbox.Bytes, "By", "Bytes waiting for the broker");
        meter.CreateObservableGauge("edgepatchcore.broker.connected", () => state.Broker.IsConnected ? 1 : 0, null,
            "1 while the MQTT connection is up");
        meter.CreateObservableGauge("edgepatchcore.models.loaded", () => state.Models().Count, "{model}", "Models being served");
        // Prometheus conventions: base units (seconds), so the exporter names them *_seconds.
        meter.CreateObservableGauge("edgepatchcore.latency.p50", () => state.Metrics.LatencyPercentiles()?.P50 / 1000 ?? double.NaN, "s",
                                    "Median frame latency (receipt to stored verdict) over the last 5 minutes");
        meter.CreateObservableGauge("edgepatchcore.latency.p95", () => state.Metrics.LatencyPercentiles()?.P95 / 1000 ?? double.NaN, "s",
                                    "95th percentile frame latency over the last 5 minutes");
        meter.CreateObservableGauge("edgepatchcore.outbox.oldest.age", () => state.Outbox.OldestAge?.TotalSeconds ?? 0, "s",
                                    "How long the oldest message has waited for the broker (0: none waits)");
        meter.CreateObservableGauge("edgepatchcore.health.degraded", () => state.Health().Status == "ok" ? 0 : 1, null,
                                    "1 while the agent is degraded or unhealthy (/healthz says why)");
        meter.CreateObservableGauge("edgepatchcore.batch.decoded.largest", () => m.LargestBatchBytes, "By",
                                    "The most bytes of decoded frames held at once by the batch scored and the one decoded " +
                                    "(Agent:Pipeline:MaxBatchBytes)");
        meter.CreateObservableCounter("edgepatchcore.dropped", () => state.Drops.Snapshot()
            .Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("what", d.Key))), "{item}",
            "Things let go instead of waiting, by kind (what): frames not kept for teaching, requests over their queue, heat maps, ...");
    }
}
