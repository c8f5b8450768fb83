using EdgePatchCore.Messaging;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveSnapshot(
    DateTimeOffset At, string DeviceId, string Version, string Health, IReadOnlyList<string> Problems, LiveCounters Counters, LiveLatency? LatencyMs,
    int QueueDepth, LiveOutbox Outbox, LiveBroker Broker, IReadOnlyList<LiveModel> Models, IReadOnlyList<LiveFrame> Frames,
    IReadOnlyList<LiveDevice> Devices);
