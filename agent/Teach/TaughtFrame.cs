namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// One taught frame: where its image is in the teach set, what the model said of it, and who taught it
/// (<see cref="By"/>: the authenticated sender, the line's secret id; <see cref="Operator"/>: the name that sender reported).
/// </summary>
public sealed record TaughtFrame(string FrameId, string File, string? Product, string? ModelId, string Verdict, float? Score, float? Threshold,
                                 DateTimeOffset ScoredAt, string Label, string? By, string? Note, DateTimeOffset TaughtAt, string? FeatureSpec = null,
                                 long Bytes = 0, string? Operator = null);
