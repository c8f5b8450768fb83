namespace EdgePatchCore.Evaluation;

/// <summary>
/// Which pixels of a resized ground-truth mask count as defect. Both resize the mask as the image is resized
/// (bilinear); they differ at the defect's edge, and so in pixel AUROC, PRO and even the number of regions
/// (on MTD at 224 x 224: 450 regions with <see cref="HalfCovered"/>, 606 with <see cref="FullyCovered"/>, whose
/// thin defects break apart).
/// </summary>
public enum MaskProtocol
{
    /// <summary>At least half of the pixel lies in the defect (resized grey level >= 128). EdgePatchCore's default.</summary>
    HalfCovered,
    /// <summary>
    /// All of the pixel lies in the defect (resized grey level 255): the official PatchCore code's evaluation,
    /// which casts the resized 0..1 mask to int. Use it to compare with figures published from that code.
    /// </summary>
    FullyCovered,
}
