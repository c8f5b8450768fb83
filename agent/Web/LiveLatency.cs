using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveLatency(double P50, double P95, int Frames, double WindowMinutes);
