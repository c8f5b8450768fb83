namespace EdgePatchCore.Scoring;

/// <summary>What a <see cref="PatchSearch"/> did, summed over the calls since the last <see cref="PatchSearch.TakeWork"/>.</summary>
public readonly record struct SearchWork(long Patches, long ExactPatches, long RowsVisited, long BankRows);
