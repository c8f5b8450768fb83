using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Web;

public sealed record LiveModel(string Id, string Product, float Threshold, string Device, DateTime CreatedAt, string? SignedBy, long? Release,
    string? ParentId);
