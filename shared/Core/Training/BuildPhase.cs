using System.Diagnostics;

namespace EdgePatchCore.Training;

/// <summary>One phase of a build and its wall-clock time.</summary>
public sealed record BuildPhase(string Name, double Seconds);
