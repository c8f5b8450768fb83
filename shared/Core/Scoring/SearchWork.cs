namespace EdgePatchCore.Scoring;

/// <summary>What a <see cref="PatchSearch"/> did, summed over the calls since the last <see cref="PatchSearch.TakeWork"/>.</summary>
public readonly record struct SearchWork(long Patches, long ExactPatches, long RowsVisited, long BankRows)
{
    /// <summary>Bank rows compared per patch, as a share of the bank (1 for the exhaustive search).</summary>
    public double VisitedShare => Patches == 0 ? 0 : (double)RowsVisited / ((double)Patches * BankRows);
}
