using EdgePatchCore.Agent.Configuration;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>Agent:Sparkplug's own checks (registered by <see cref="SparkplugRegistration.AddSparkplug"/>): ids that are single topic levels, a
/// broker.</summary>
public sealed class SparkplugOptionsValidation : OptionsChecks
{
    protected override void Check(AgentOptions o, Action<bool, string> check)
    {
        if (!o.Sparkplug.Enabled) return;
        var sp = o.Sparkplug;
        check(SparkplugTopics.IsValidId(sp.GroupId), "Agent:Sparkplug:GroupId must be set, without '/', '+' or '#'");
        check(SparkplugTopics.IsValidId(string.IsNullOrEmpty(sp.EdgeNodeId) ? o.DeviceId : sp.EdgeNodeId),
              "Agent:Sparkplug:EdgeNodeId (default Agent:DeviceId) must not contain '/', '+' or '#'");
        check(string.IsNullOrEmpty(sp.PrimaryHostId) || SparkplugTopics.IsValidId(sp.PrimaryHostId),
            "Agent:Sparkplug:PrimaryHostId must not contain '/', '+' or '#'");
        check(!string.IsNullOrWhiteSpace(o.Broker.Host), "Agent:Sparkplug needs a broker (Agent:Broker:Host)");
    }
}
