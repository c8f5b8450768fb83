using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.ModelStore;

public sealed record ModelSummary(string Id, string Product, DateTime CreatedAt, float Threshold, string Device, string Path, long? Release = null,
    string? SignedBy = null, string? ParentId = null,
                                  string? FeatureSpec = null);
