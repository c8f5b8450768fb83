using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>Agent:Sparkplug's own checks (registered by <see cref="SparkplugRegistration.AddSparkplug"/>): ids that are single topic levels, a broker.</summary>
public sealed class SparkplugOptionsValidation : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions o)
    {
        var problems = Problems(o);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static List<string> Problems(AgentOptions o)
    {
        var problems = new List<string>();
        if (!o.Sparkplug.Enabled) return problems;
        void Check(bool ok, string problem) { if (!ok) problems.Add(problem); }
        var sp = o.Sparkplug;
        Check(SparkplugTopics.IsValidId(sp.GroupId), "Agent:Sparkplug:GroupId must be set, without '/', '+' or '#'");
        Check(SparkplugTopics.IsValidId(string.IsNullOrEmpty(sp.EdgeNodeId) ? o.DeviceId : sp.EdgeNodeId),
              "Agent:Sparkplug:EdgeNodeId (default Agent:DeviceId) must not contain '/', '+' or '#'");
        Check(string.IsNullOrEmpty(sp.PrimaryHostId) || SparkplugTopics.IsValidId(sp.PrimaryHostId), "Agent:Sparkplug:PrimaryHostId must not contain '/', '+' or '#'");
        Check(!string.IsNullOrWhiteSpace(o.Broker.Host), "Agent:Sparkplug needs a broker (Agent:Broker:Host)");
        return problems;
    }
}
