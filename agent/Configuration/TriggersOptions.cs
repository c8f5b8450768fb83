namespace EdgePatchCore.Agent.Configuration;

/// <summary>Agent:Triggers: the inspection handshake (docs/agent.md, "Triggers and the handshake").</summary>
public sealed class TriggersOptions
{
    /// <summary>From trigger to answer: a part without a result by then is answered ERROR (a later result goes to {prefix}/result/late).</summary>
    public int DeadlineMilliseconds { get; set; } = 500;
    /// <summary>Triggers waiting for their answers at most; one more is answered ERROR busy at once.</summary>
    public int MaxPending { get; set; } = 8;
}
