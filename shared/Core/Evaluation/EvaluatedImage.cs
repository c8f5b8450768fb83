using System.Diagnostics;
using EdgePatchCore.Datasets;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Evaluation;

/// <summary>One scored test image: its score and anomaly map, and its mask (first protocol; null for a good image or a missing mask).</summary>
public sealed record EvaluatedImage(string Path, string DefectType, ImageScore Score, byte[]? Mask)
{
    public bool IsDefective => DefectType != DatasetFolder.GoodType;
}
