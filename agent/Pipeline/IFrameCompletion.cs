using System.Diagnostics;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>What a source does once its frame is done: move the file, acknowledge the MQTT message, ...</summary>
public interface IFrameCompletion
{
    /// <summary>The verdict is stored in the outbox: the frame can be let go.</summary>
    void Completed(Verdict verdict);
    /// <summary>The queue was full and this frame was dropped unscored.</summary>
    void Dropped();
}
