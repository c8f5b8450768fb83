using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Scoring;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>One frame on its way through the <see cref="ScoringWorker"/>'s batch: what decoding (<see cref="BatchDecoder"/>) and scoring found
/// out.</summary>
internal sealed class BatchItem(Frame frame)
{
    public Frame Frame { get; } = frame;
    public LoadedModel? Model;
    public string? Error;
    public double DecodeMs, InferMs;
    public int FrameWidth, FrameHeight;
    public Image<Rgb24>? Image; // kept for the sinks' heat maps, and for a tiled model's scoring
    public ImageScore? Score;
    public bool Done; // its sinks have it
}
