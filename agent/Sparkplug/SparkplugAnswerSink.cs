using EdgePatchCore.Agent.Triggers;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// The handshake's answers into the edge node's outbox (<see cref="SparkplugFeed.ResultTopic"/>), which it publishes as DDATA of the part's
/// device (Trigger/Part Id, Trigger/Result, ...). Late results stay on the JSON topic {prefix}/result/late: in Sparkplug a later value of the
/// same tags would read as the part's answer.
/// </summary>
public sealed class SparkplugAnswerSink(SparkplugFeed feed) : IAnswerSink
{
    public void Accept(InspectionResult result, bool late)
    {
        if (!late) feed.Outbox?.Append(SparkplugFeed.ResultTopic, result.ToJson());
    }
}
