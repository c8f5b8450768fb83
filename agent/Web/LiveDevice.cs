namespace EdgePatchCore.Agent.Web;

/// <summary>A camera (or other equipment) on the live page: its name, what is wrong (null: nothing) and its counts.</summary>
public sealed record LiveDevice(string Name, string? Problem, IReadOnlyDictionary<string, long> Counters);
