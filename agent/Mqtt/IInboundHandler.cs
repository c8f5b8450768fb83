using MQTTnet;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>
/// A feature that takes messages from the broker (teach marks, deploy requests, camera frames). Registered with the
/// container (its module's <c>AddAs&lt;T, IInboundHandler&gt;</c>); the <see cref="BrokerConnection"/> subscribes every
/// handler's filters on each connect and hands it the messages that match. A handler never waits: frames share the
/// receive loop.
/// </summary>
public interface IInboundHandler
{
    /// <summary>The topic filters this handler takes (a $share/group/ prefix is allowed).</summary>
    IReadOnlyList<string> Filters { get; }

    /// <summary>One message that matched <paramref name="filter"/>. Handlers that acknowledge later turn AutoAcknowledge off.</summary>
    Task HandleAsync(string filter, MqttApplicationMessageReceivedEventArgs message);
}
