using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

/// <summary>What /healthz and the page's badge say: ok, degraded (inspecting, SCADA not reached) or unhealthy (not inspecting).</summary>
public sealed record HealthReport(string Status, IReadOnlyList<string> Problems, IReadOnlyList<string> Degraded, double? OutboxAgeSeconds);
