namespace EdgePatchCore.Agent.ModelStore;

/// <summary>The "Agent" configuration section.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";
    /// <summary>The .pcb artifact to serve.</summary>
    public string Artifact { get; set; } = "";
    /// <summary>auto, cpu or cuda.</summary>
    public string Device { get; set; } = "auto";
}
