using System.Diagnostics;

namespace EdgePatchCore.Training;

/// <summary>One phase of a build: its wall-clock time and the peak resident memory while it ran (<see cref="Diagnostics.PhaseMemory"/>).</summary>
public sealed record BuildPhase(string Name, double Seconds, long PeakBytes);
