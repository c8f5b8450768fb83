namespace EdgePatchCore.Agent.Messages;

/// <summary>A defect's bounding box in frame pixels.</summary>
public sealed record VerdictRegion(int X, int Y, int Width, int Height);
