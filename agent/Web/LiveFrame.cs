using EdgePatchCore.Agent.Messages;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveFrame(long Number, string FrameId, string Source, string? Product, string Verdict, float? Score, float? Threshold,
                               float? NormalizedScore, DateTimeOffset ScoredAt, double LatencyMs, string? Error, string? Image);
