namespace EdgePatchCore.Deployment;

/// <summary>One taught frame in the list: the file under the teach set, its size and hash, and its record.</summary>
public sealed record CollectEntry(string FrameId, string File, long Size, string Sha256, string? Product, string? ModelId, string Verdict,
                                  float? Score, float? Threshold, DateTimeOffset ScoredAt, string? By, string? Note, DateTimeOffset TaughtAt,
                                  string? FeatureSpec = null, string? Operator = null);
