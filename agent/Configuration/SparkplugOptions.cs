namespace EdgePatchCore.Agent.Configuration;

/// <summary>Sparkplug B 3.0 edge node (docs/SPARKPLUG.md): off by default; the JSON topics stay as they are.</summary>
public sealed class SparkplugOptions
{
    public bool Enabled { get; set; }
    /// <summary>The Sparkplug group (e.g. the plant or the line).</summary>
    public string GroupId { get; set; } = "";
    /// <summary>The edge node id; empty means Agent:DeviceId.</summary>
    public string EdgeNodeId { get; set; } = "";
    /// <summary>When set, the node publishes only while this primary host application says it is online (its STATE message).</summary>
    public string PrimaryHostId { get; set; } = "";
}
