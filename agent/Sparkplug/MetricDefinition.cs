namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>A metric as announced in a BIRTH: its name, data type and alias (0 = sent by name only, as bdSeq is).</summary>
public sealed record MetricDefinition(string Name, uint DataType, ulong Alias);
