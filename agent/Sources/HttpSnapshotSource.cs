using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// Polls a camera's HTTP snapshot URL (a JPEG per request) at a fixed interval. A live source: frames
/// are dropped oldest-first when scoring falls behind. A failing camera is reported once, then quietly
/// retried, and its recovery is logged. Its clients come from <see cref="IHttpClientFactory"/> (configured in
/// <see cref="AgentHost"/>): the factory recycles the connection handlers, so a camera whose address changes behind
/// its name is found again, which one client kept for the agent's life would not do.
/// </summary>
public sealed class HttpSnapshotSource(IOptions<AgentOptions> options, FrameQueue queue, IHttpClientFactory clients,
    ILogger<HttpSnapshotSource> logger) : BackgroundService
{
    /// <summary>The named client: the timeout and the frame size limit of the options.</summary>
    public const string ClientName = "camera";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value.Sources.Http!;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(o.IntervalMilliseconds));
        string url = Text.Redact(o.Url);
        logger.LogInformation("Polling {Url} every {Interval} ms", url, o.IntervalMilliseconds);
        bool failing = false;
        long sequence = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                using var http = clients.CreateClient(ClientName);
                using var response = await http.GetAsync(o.Url, stoppingToken);
                response.EnsureSuccessStatusCode();
                var bytes = await response.Content.ReadAsByteArrayAsync(stoppingToken);
                if (failing) logger.LogInformation("Camera {Url} answers again", url);
                failing = false;
                queue.Post(new Frame { Id = $"http-{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{++sequence}", Source = "http", Product = o.Product,
                    Bytes = bytes });
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                if (!failing) logger.LogWarning("Camera {Url} does not answer: {Reason}; retrying every {Interval} ms", url, Text.Redact(e.Message),
                    o.IntervalMilliseconds);
                failing = true;
            }
        }
    }
}
