namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// A consumer of the handshake's answers, registered with the container: the JSON topics' outbox ({prefix}/result) and, with Sparkplug on,
/// the edge node's. The <see cref="TriggerBook"/> hands each answer to all of them while it holds the part, so each stores it before the
/// part counts as answered; a sink that cannot store it throws IOException (logged; the others still get it).
/// </summary>
public interface IAnswerSink
{
    /// <param name="late">true for a result that came after its part was answered ERROR at the deadline</param>
    void Accept(InspectionResult result, bool late);
}
