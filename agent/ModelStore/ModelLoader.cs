using EdgePatchCore.Artifacts;
using EdgePatchCore.Features;
using EdgePatchCore.Scoring;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.ModelStore;

/// <summary>
/// Loads the configured artifact at start-up: verifies it, builds the scoring session and warms it up
/// with one frame, so the first camera frame is not slow. Frame sources and MQTT publishing come next.
/// </summary>
public sealed class ModelLoader(IOptions<AgentOptions> options, ILogger<ModelLoader> logger) : BackgroundService
{
    public PatchCoreScorer? Scorer { get; private set; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.Artifact))
        {
            logger.LogError("No artifact configured: set Agent:Artifact (or EDGEPATCHCORE__Agent__Artifact)");
            return Task.CompletedTask;
        }
        try
        {
            var artifact = ArtifactFile.Read(o.Artifact);
            var device = new ExecutionDevice(ExecutionDevice.Parse(o.Device));
            var scorer = new PatchCoreScorer(artifact.Content, device);
            scorer.Score(new float[scorer.Features.InputLength], 1); // warm-up
            Scorer = scorer;
            logger.LogInformation("Model {Product} {Id} loaded ({Rows} bank rows, threshold {Threshold}) on {Device}",
                artifact.Content.Manifest.Product, artifact.Id, artifact.Content.Bank.Rows, artifact.Content.Scoring.Threshold, device.Describe());
        }
        catch (Exception e) when (e is ArtifactException or ArgumentException or InvalidOperationException)
        {
            logger.LogError("Cannot load model: {Reason}", e.Message);
        }
        return Task.CompletedTask;
    }

    public override void Dispose()
    {
        Scorer?.Dispose();
        base.Dispose();
    }
}
