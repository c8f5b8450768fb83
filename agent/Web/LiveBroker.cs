using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveBroker(string? Address, bool Connected);
