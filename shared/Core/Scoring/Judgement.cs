namespace EdgePatchCore.Scoring;

/// <summary>What a score means against a threshold.</summary>
public enum Judgement { Ok, Defect, Undecidable }
