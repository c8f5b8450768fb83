using EdgePatchCore.Agent.Configuration;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>Agent:Triggers' own checks.</summary>
public sealed class TriggersOptionsValidation : OptionsChecks
{
    protected override void Check(AgentOptions o, Action<bool, string> check)
    {
        var t = o.Triggers;
        check(t.DeadlineMilliseconds is >= 10 and <= 600_000, "Agent:Triggers:DeadlineMilliseconds must be 10..600000");
        check(t.MaxPending is >= 1 and <= 10_000, "Agent:Triggers:MaxPending must be 1..10000");
        check(string.IsNullOrWhiteSpace(o.Sources.GenICam?.TriggerSource) || !string.IsNullOrWhiteSpace(o.Broker.Host),
              "Agent:Sources:GenICam:TriggerSource needs a broker (Agent:Broker:Host): triggers are answered on {prefix}/result");
    }
}
