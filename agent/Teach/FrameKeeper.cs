using System.Threading.Channels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// Writes scored frames into the <see cref="FrameStore"/> off the scoring loop, so that a slow disk (an SD card
/// taking a 5 MB frame) never holds up scoring. When the writes fall behind by <see cref="Capacity"/> frames, new
/// frames are not kept (counted as "frame-not-kept" and logged at a limited rate): keeping frames for teaching is a
/// cache, scoring is not. A camera's frame (RGB, no encoded bytes) is copied here and written as PNG by the writer, off the scoring
/// loop. A frame whose id is kept already is not kept either ("frame-id-repeated", see FrameStore).
/// </summary>
public sealed class FrameKeeper(FrameStore store, DropCounter drops) : BackgroundService, IScoredFrameSink
{
    public SinkKind Kind => SinkKind.BestEffort;
    /// <summary>Camera frames come without encoded bytes; the worker keeps their pictures for the sinks anyway (their only copy).</summary>
    public bool UsesHeatmaps => false;

    /// <summary>Keeps every scored frame (one that was not scored cannot teach anything, so error frames are not kept).</summary>
    public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
    {
        if (frame.Verdict.Result == Verdict.Error) return ValueTask.CompletedTask;
        if (frame.Frame.Bytes is { Length: > 0 } bytes) Keep(frame.Verdict.FrameId, bytes, null, frame.Verdict);
        else if (frame.Image is { } image && store.Enabled) Keep(frame.Verdict.FrameId, null, image.Clone(), frame.Verdict);
        return ValueTask.CompletedTask;
    }

    public const int Capacity = 16;
    // Wait mode with TryWrite: a full channel answers false (DropWrite would answer true and lose the frame unseen).
    private readonly Channel<(string FrameId, byte[]? Encoded, Image<Rgb24>? Picture, Verdict Verdict)> _frames =
        Channel.CreateBounded<(string, byte[]?, Image<Rgb24>?, Verdict)>(new BoundedChannelOptions(Capacity) { SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait });
    private long _pending;

    /// <summary>Queues a frame to be kept, as encoded bytes or as a picture this keeper then owns; never waits.</summary>
    public void Keep(string frameId, byte[]? encoded, Image<Rgb24>? picture, Verdict verdict)
    {
        if (!store.Enabled)
        {
            picture?.Dispose();
            return;
        }
        Interlocked.Increment(ref _pending);
        if (_frames.Writer.TryWrite((frameId, encoded, picture, verdict))) return;
        Interlocked.Decrement(ref _pending);
        picture?.Dispose();
        drops.Drop("frame-not-kept", $"frames are scored faster than the disk keeps them for teaching (queue of {Capacity})");
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every frame queued so far is written: a teach request sees the frames scored before
    /// it.</summary>
    public async Task FlushAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var until = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref _pending) > 0 && DateTime.UtcNow < until) await Task.Delay(10, cancel);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (frameId, encoded, picture, verdict) in _frames.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                if (store.Add(frameId, encoded ?? Png(picture!), verdict) == KeepResult.RepeatedId)
                    drops.Drop("frame-id-repeated", "a frame came with an id already kept: the first is kept, and teaching that id is refused");
            }
            finally
            {
                picture?.Dispose();
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    private static byte[] Png(Image<Rgb24> picture)
    {
        using var png = new MemoryStream();
        picture.SaveAsPng(png);
        return png.ToArray();
    }
}
