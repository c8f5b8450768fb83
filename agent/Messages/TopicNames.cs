namespace EdgePatchCore.Agent.Messages;

/// <summary>The topics of the MQTT table in docs/agent.md under the configured prefix.</summary>
public sealed record TopicNames(string Prefix)
{
    public string Status => Prefix + "/status";
    public string Verdict => Prefix + "/verdict";
    public string Heatmap => Prefix + "/heatmap";
    public string Metrics => Prefix + "/metrics";
    public string Event => Prefix + "/event";
}
