using System.Threading.Channels;
using EdgePatchCore.Agent.Publishing;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// Writes scored frames into the <see cref="FrameStore"/> off the scoring loop, so that a slow disk (an SD card
/// taking a 5 MB frame) never holds up scoring. When the writes fall behind by <see cref="Capacity"/> frames, new
/// frames are not kept (counted and logged): keeping frames for teaching is a cache, scoring is not.
/// </summary>
public sealed class FrameKeeper(FrameStore store, ILogger<FrameKeeper> logger) : BackgroundService
{
    public const int Capacity = 16;
    private readonly Channel<(string FrameId, byte[] Image, Verdict Verdict)> _frames =
        Channel.CreateBounded<(string, byte[], Verdict)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private long _pending, _skipped;

    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Queues a frame to be kept; never waits.</summary>
    public void Keep(string frameId, byte[] image, Verdict verdict)
    {
        if (!store.Enabled) return;
        Interlocked.Increment(ref _pending);
        if (_frames.Writer.TryWrite((frameId, image, verdict))) return;
        Interlocked.Decrement(ref _pending);
        long n = Interlocked.Increment(ref _skipped);
        if (n == 1 || n % 100 == 0) logger.LogWarning("Frames are scored faster than the disk keeps them: {Count} not kept for teaching so far", n);
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every frame queued so far is written: a teach request sees the frames scored before it.</summary>
    public async Task FlushAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var until = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref _pending) > 0 && DateTime.UtcNow < until) await Task.Delay(10, cancel);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (frameId, image, verdict) in _frames.Reader.ReadAllAsync(stoppingToken))
        {
            store.Add(frameId, image, verdict); // logs and skips what it cannot write
            Interlocked.Decrement(ref _pending);
        }
    }
}
