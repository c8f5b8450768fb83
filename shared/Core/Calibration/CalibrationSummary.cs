using MessagePack;

namespace EdgePatchCore.Calibration;

/// <summary>The scores of good images the bank has not seen (out-of-fold, or a calibration folder) and the threshold chosen from them.</summary>
[MessagePackObject]
public sealed record CalibrationSummary
{
    [Key(0)] public required float[] SortedScores { get; init; }
    [Key(1)] public required double Mean { get; init; }
    [Key(2)] public required double Std { get; init; }
    [Key(3)] public required double TargetFalseRejectRate { get; init; }
    [Key(4)] public required float Threshold { get; init; }
    [Key(5)] public required string Method { get; init; }
}
