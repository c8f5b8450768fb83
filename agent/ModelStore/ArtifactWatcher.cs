using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.ModelStore;

/// <summary>
/// Loads the configured artifacts at start-up and reloads one when its file changes. Polls size and time
/// stamp (file-system events are unreliable on network mounts and miss renames onto a watched name) and
/// waits until the file is stable for one poll, so a copy in progress is not mistaken for a bad artifact.
/// </summary>
public sealed class ArtifactWatcher(IOptions<AgentOptions> options, ModelStore store, ILogger<ArtifactWatcher> logger) : BackgroundService
{
    /// <summary>Completes once every configured artifact has been tried once.</summary>
    public Task InitialLoad => store.InitialLoad;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var models = options.Value.AllModels;
        var seen = new FileStamp?[models.Count];
        var candidate = new FileStamp?[models.Count];
        await Task.Yield(); // let the host finish starting; loading can take seconds
        try
        {
            for (int i = 0; i < models.Count; i++)
            {
                seen[i] = FileStamp.Of(models[i].Artifact);
                await Task.Run(() => store.Load(models[i]), stoppingToken);
            }
        }
        finally
        {
            store.InitialLoadDone();
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ArtifactPollSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            for (int i = 0; i < models.Count; i++)
            {
                var now = FileStamp.Of(models[i].Artifact);
                if (now == seen[i] || now is null) { candidate[i] = null; continue; }
                if (now == store.ServedStamp(models[i].Artifact)) // installed by a deploy, already serving
                {
                    seen[i] = now;
                    candidate[i] = null;
                    continue;
                }
                if (now != candidate[i]) { candidate[i] = now; continue; } // changed: wait one more poll for it to settle
                seen[i] = now;
                candidate[i] = null;
                logger.LogInformation("Artifact {Path} changed; loading it", models[i].Artifact);
                await Task.Run(() => store.Load(models[i]), stoppingToken);
            }
        }
    }
}
