namespace EdgePatchCore.Agent.Configuration;

public sealed class MqttSourceOptions
{
    /// <summary>Topic filter carrying JPEG/PNG payloads; $share/group/topic spreads frames over several agents.</summary>
    public string Topic { get; set; } = "";
    public string? Product { get; set; }
}
