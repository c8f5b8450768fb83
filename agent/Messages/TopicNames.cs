namespace EdgePatchCore.Agent.Messages;

/// <summary>The topics of the MQTT table in docs/agent.md under the configured prefix.</summary>
public sealed record TopicNames(string Prefix)
{
    public string Status => Prefix + "/status";
    public string Verdict => Prefix + "/verdict";
    public string Heatmap => Prefix + "/heatmap";
    public string Metrics => Prefix + "/metrics";
    public string Event => Prefix + "/event";
    /// <summary>Inbound: a PLC's request to inspect a part.</summary>
    public string Trigger => Prefix + "/trigger";
    /// <summary>Retained: whether a trigger would be taken now (ready, pending, reason).</summary>
    public string TriggerState => Prefix + "/trigger/state";
    /// <summary>One answer per trigger, within its deadline.</summary>
    public string Result => Prefix + "/result";
    /// <summary>Inbound: the line's recipe (the product whose model scores untriggered and line-triggered frames); answered retained on
    /// <see cref="RecipeState"/>.</summary>
    public string Recipe => Prefix + "/recipe";
    public string RecipeState => Prefix + "/recipe/state";
    /// <summary>Results that came after their part was answered ERROR at the deadline: never the part's answer.</summary>
    public string LateResult => Prefix + "/result/late";
}
