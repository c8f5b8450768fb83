namespace EdgePatchCore.Coreset;

/// <summary>One cross-fitting fold: the images it holds and the bank rows its images are scored against (none of theirs).</summary>
public sealed record Fold(int[] Images, int[] BankRows, int KeptRows, int AddedRows);
