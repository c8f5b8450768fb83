using System.Text;

namespace EdgePatchCore.Datasets;

/// <summary>A test image, its defect type ("good" for defect-free) and its ground-truth mask, if any.</summary>
public sealed record TestImage(string Path, string DefectType, string? MaskPath)
{
    public bool IsDefective => DefectType != DatasetFolder.GoodType;
}
