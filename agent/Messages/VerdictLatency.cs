namespace EdgePatchCore.Agent.Messages;

/// <summary>Milliseconds spent decoding, scoring, and from receipt to the stored verdict.</summary>
public sealed record VerdictLatency(double Decode, double Infer, double Total);
