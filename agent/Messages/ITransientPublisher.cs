namespace EdgePatchCore.Agent.Messages;

/// <summary>Publishes a message that may be lost (metrics, heat maps, an event about the outbox itself): false while the broker is
/// unreachable.</summary>
public interface ITransientPublisher
{
    Task<bool> PublishTransientAsync(string topic, byte[] payload, CancellationToken cancel, string? frameId = null);
}
