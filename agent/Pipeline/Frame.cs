using System.Diagnostics;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>One camera frame on its way from a source to the scorer.</summary>
public sealed class Frame
{
    public required string Id { get; init; }
    /// <summary>Source kind: folder, mqtt, mjpeg or http.</summary>
    public required string Source { get; init; }
    public string? Product { get; init; }
    public required byte[] Bytes { get; init; }
    public DateTimeOffset CapturedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Set by a source that already knows the frame cannot be scored (e.g. over the size limit).</summary>
    public string? RejectReason { get; init; }
    /// <summary>Told when the verdict is safely in the outbox, or when the frame was dropped.</summary>
    public IFrameCompletion? Completion { get; init; }
    public long ReceivedTimestamp { get; } = Stopwatch.GetTimestamp();
}
