using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>Answers into the JSON topics' outbox: {prefix}/result, late ones {prefix}/result/late.</summary>
public sealed class OutboxAnswerSink(Outbox outbox, TopicNames topics) : IAnswerSink
{
    public void Accept(InspectionResult result, bool late) => outbox.Append(late ? topics.LateResult : topics.Result, result.ToJson());
}
