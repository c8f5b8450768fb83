using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Scoring;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// What the scoring worker hands its sinks for one frame: the frame (its bytes and metadata), its verdict (and the
/// verdict's JSON, made once), and, when it was scored, the model, the score with its anomaly map and the decoded
/// image. <see cref="Heatmap"/> renders the overlay once, for whichever sinks ask.
/// </summary>
public sealed class ScoredFrame
{
    /// <summary>A tiled model's megapixel map is shown at most this many pixels on its longer side.</summary>
    public const int HeatmapMaxSide = 1024;
    private byte[]? _heatmap;
    private bool _rendered;

    public required Frame Frame { get; init; }
    public required Verdict Verdict { get; init; }
    public required byte[] VerdictJson { get; init; }
    public LoadedModel? Model { get; init; }
    public ImageScore? Score { get; init; }
    /// <summary>The decoded frame (RGB) while sinks run; null when no sink uses heat maps or it could not be decoded.</summary>
    public Image<Rgb24>? Image { get; init; }

    /// <summary>
    /// The frame at its map's size blended with its anomaly map, as JPEG (rendered on the first call); null when the
    /// frame was not scored or not kept decoded, or rendering failed (the sinks go on without it).
    /// </summary>
    public byte[]? Heatmap()
    {
        if (_rendered) return _heatmap;
        _rendered = true;
        if (Image is null || Score is null || Model is null) return null;
        try
        {
            using var overlay = HeatmapRenderer.Render(Image, Model.Scorer.MapGeometry(Image.Width, Image.Height), Score, Model.Threshold,
                Verdict.FrameId);
            if (overlay.Width > HeatmapMaxSide || overlay.Height > HeatmapMaxSide)
                overlay.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(HeatmapMaxSide, HeatmapMaxSide),
                    Mode = SixLabors.ImageSharp.Processing.ResizeMode.Max }));
            using var jpeg = new MemoryStream();
            overlay.SaveAsJpeg(jpeg);
            _heatmap = jpeg.ToArray();
        }
        catch (Exception e) // a heat map that cannot be rendered fails alone: the verdict stands
        {
            HeatmapError = e.Message;
        }
        return _heatmap;
    }

    /// <summary>Why <see cref="Heatmap"/> returned null after trying, for a log line.</summary>
    public string? HeatmapError { get; private set; }
}
