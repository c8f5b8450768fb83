using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using MQTTnet;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// Acknowledges an MQTT frame once, whatever calls it (verdict stored, frame dropped, or both after a
/// failure) and whether or not the connection is still there: a second call is a no-op, and a failure to
/// send is logged, never thrown (the broker redelivers an unacknowledged frame on the next session).
/// </summary>
internal sealed class MqttAcknowledgement(MqttApplicationMessageReceivedEventArgs message, ILogger logger) : IFrameCompletion
{
    private int _done;

    public void Completed(Verdict verdict) => Acknowledge();
    public void Dropped() => Acknowledge(); // counted as dropped; redelivery would only make the backlog worse

    private void Acknowledge()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        try
        {
            _ = message.AcknowledgeAsync(CancellationToken.None).ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
        catch (Exception e)
        {
            logger.LogDebug("Acknowledgement not sent ({Reason}); the broker will redeliver", e.Message);
        }
    }
}
