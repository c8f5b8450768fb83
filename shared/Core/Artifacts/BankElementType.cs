namespace EdgePatchCore.Artifacts;

/// <summary>Bank element type in the artifact.</summary>
public enum BankElementType { Float32 = 0 }
