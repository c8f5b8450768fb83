using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The verdict of one frame: ok or defect against the model's threshold (with the defect's region in frame pixels),
/// or error with the reason when the frame could not be decoded or scored, or its score cannot be judged.
/// </summary>
public static class VerdictFactory
{
    /// <param name="frameWidth">the decoded frame's size (for the region)</param>
    public static Verdict Create(Frame frame, LoadedModel? model, ImageScore? score, string? error, VerdictLatency latency, int frameWidth,
        int frameHeight)
    {
        string frameId = Text.FrameId(frame.Id) ?? "(no id)";
        if (error is null && score is not null && model is not null && Judge.Of(score.Score, model.Threshold) == Judgement.Undecidable)
            error = $"{frameId}: score {score.Score} against threshold {model.Threshold} cannot be judged (not a finite number)";
        var modelRecord = model is null ? null : new VerdictModel(model.Id, model.CreatedAtUtc, model.DerivedOnDeviceFrom);
        if (score is null || model is null || error is not null)
        {
            return new Verdict
            {
                FrameId = frameId, Source = frame.Source, PartId = frame.PartId, Camera = frame.Camera,
                Product = model?.Product ?? (frame.Product is null ? null : Text.Cap(frame.Product, 128)),
                Model = modelRecord, CapturedAt = frame.CapturedAt, ScoredAt = DateTimeOffset.UtcNow, Result = Verdict.Error,
                Threshold = model?.Threshold, LatencyMs = latency, ErrorText = Text.Cap(error ?? "not scored", Text.MaxError),
            };
        }
        bool defect = Judge.Of(score.Score, model.Threshold) == Judgement.Defect;
        return new Verdict
        {
            FrameId = frameId, Source = frame.Source, PartId = frame.PartId, Camera = frame.Camera,
            Product = model.Product, Model = modelRecord,
            CapturedAt = frame.CapturedAt, ScoredAt = DateTimeOffset.UtcNow, Result = defect ? Verdict.Defect : Verdict.Ok,
            Score = score.Score, Threshold = model.Threshold, NormalizedScore = score.Score / model.Threshold,
            Region = defect ? DefectRegion(score, model, frameWidth, frameHeight) : null,
            Review = model.ReviewThreshold is { } review ? !defect && score.Score >= review : null,
            LatencyMs = latency,
        };
    }

    /// <summary>
    /// The defect's bounding box in frame pixels: map pixels at or above the threshold; when the smoothed map stays below
    /// it everywhere (the image score is re-weighted), the hottest spot (within 10% of the map's maximum).
    /// </summary>
    private static VerdictRegion? DefectRegion(ImageScore score, LoadedModel model, int width, int height)
    {
        var map = score.AnomalyMap;
        var geometry = model.Scorer.MapGeometry(width, height);
        var region = InputGeometry.RegionAbove(map, score.MapWidth, score.MapHeight, model.Threshold, geometry, width, height)
                     ?? InputGeometry.RegionAbove(map, score.MapWidth, score.MapHeight, 0.9f * map.Max(), geometry, width, height);
        return region is { } r ? new VerdictRegion(r.X, r.Y, r.Width, r.Height) : null;
    }
}
