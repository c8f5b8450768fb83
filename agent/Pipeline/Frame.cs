using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>One camera frame on its way from a source to the scorer.</summary>
public sealed class Frame
{
    public required string Id { get; init; }
    /// <summary>Source kind: folder, mqtt, mjpeg, http or genicam.</summary>
    public required string Source { get; init; }
    public string? Product { get; init; }
    /// <summary>The encoded image (JPEG, PNG, ...); empty when the source hands <see cref="Pixels"/> instead.</summary>
    public required byte[] Bytes { get; init; }
    /// <summary>The picture already in RGB (a camera's raw buffer converted, no encoded detour); the frame owns it: the scorer, or a full queue,
    /// disposes of it.</summary>
    public Image<Rgb24>? Pixels { get; init; }
    /// <summary>The camera's own frame id and timestamp, for cameras that give them.</summary>
    public VerdictCamera? Camera { get; init; }
    /// <summary>The part a trigger asked this frame for; its answer goes out on {prefix}/result.</summary>
    public string? PartId { get; init; }
    public DateTimeOffset CapturedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Set by a source that already knows the frame cannot be scored (e.g. over the size limit).</summary>
    public string? RejectReason { get; init; }
    /// <summary>Told when the verdict is safely in the outbox, or when the frame was dropped.</summary>
    public IFrameCompletion? Completion { get; init; }
    public long ReceivedTimestamp { get; } = Stopwatch.GetTimestamp();
}
