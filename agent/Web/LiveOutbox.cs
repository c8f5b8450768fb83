using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveOutbox(int Pending, long Bytes, bool Writable, double? OldestAgeSeconds);
