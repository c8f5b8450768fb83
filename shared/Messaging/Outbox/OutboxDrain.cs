namespace EdgePatchCore.Messaging;

/// <summary>
/// The drain every outbox of the agent shares (the JSON topics' and Sparkplug's): the stored messages in order, one at a
/// time, each through the publisher's own step (QoS 1 with its limits for the JSON topics, a DDATA for Sparkplug); a
/// published message is deleted only then, one set aside moves to rejected/ with the reason, a retry ends the pass
/// with the message still first. Nothing is deleted before the broker has it.
/// </summary>
public static class OutboxDrain
{
    /// <summary>Publishes until the outbox is empty (true) or a message asks for a retry (false).</summary>
    public static async Task<bool> PublishPendingAsync(Outbox outbox, Func<OutboxMessage, Task<(DrainOutcome Outcome, string? Reason)>> publish)
    {
        while (outbox.Peek() is { } message)
        {
            var (outcome, reason) = await publish(message);
            switch (outcome)
            {
                case DrainOutcome.Published: outbox.Remove(message.Sequence); break;
                case DrainOutcome.SetAside: outbox.SetAside(message.Sequence, reason ?? "set aside"); break;
                default: return false;
            }
        }
        return true;
    }
}
