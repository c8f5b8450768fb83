namespace EdgePatchCore.Synthetic;

/// <summary>Defect types the generator can draw.</summary>
public enum GasketDefect { None, Cut, Contamination, Scratch, MissingChunk, Deformation }
