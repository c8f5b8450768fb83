using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveCounters(long FramesIn, long Scored, long Defects, long Errors, long Dropped);
