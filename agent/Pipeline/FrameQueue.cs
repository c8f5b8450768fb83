using System.Threading.Channels;
using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// The bounded queue between the sources and the scorer. Live sources (camera streams, MQTT, HTTP)
/// <see cref="Post"/>: when the scorer cannot keep up the oldest frame is dropped, counted and logged,
/// because a stale frame is worth less than a fresh one. Sources whose frames wait safely elsewhere (files
/// in a folder) use <see cref="PostWhenRoomAsync"/> and wait instead of dropping.
/// </summary>
public sealed class FrameQueue
{
    private readonly Channel<Frame> _channel;
    private readonly AgentMetrics _metrics;
    private readonly ILogger<FrameQueue> _logger;

    public FrameQueue(IOptions<AgentOptions> options, AgentMetrics metrics, ILogger<FrameQueue> logger)
    {
        Capacity = options.Value.Pipeline.QueueCapacity;
        _metrics = metrics;
        _logger = logger;
        _channel = Channel.CreateBounded<Frame>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            OnDropped);
    }

    public int Capacity { get; }
    public int Count => _channel.Reader.Count;
    public ChannelReader<Frame> Reader => _channel.Reader;

    public void Post(Frame frame)
    {
        _metrics.FrameIn();
        _channel.Writer.TryWrite(frame); // never fails on a DropOldest channel; the oldest goes to OnDropped
    }

    /// <summary>
    /// The frames waiting, oldest first, at most <paramref name="maxFrames"/> and while their decoded size (from the image
    /// header, 3 bytes a pixel) fits <paramref name="maxDecodedBytes"/>; always one when any waits. Megapixel frames come
    /// in small batches, so a batch never holds more decoded frames than the budget (one frame past it at most).
    /// <paramref name="decodedBytes"/>: the batch's decoded size.
    /// </summary>
    public List<Frame> TakeBatch(int maxFrames, long maxDecodedBytes, out long decodedBytes)
    {
        var batch = new List<Frame>(maxFrames);
        long held = 0;
        while (batch.Count < maxFrames && _channel.Reader.TryPeek(out var next))
        {
            long cost = DecodedBytes(next);
            if (batch.Count > 0 && held + cost > maxDecodedBytes) break;
            if (!_channel.Reader.TryRead(out var frame)) break;
            batch.Add(frame);
            held += cost;
        }
        decodedBytes = held;
        return batch;
    }

    /// <summary>The decoded size of the oldest waiting frame (see <see cref="TakeBatch"/>); 0 when none waits.</summary>
    public long NextDecodedBytes() => _channel.Reader.TryPeek(out var next) ? DecodedBytes(next) : 0;

    private static long DecodedBytes(Frame frame)
    {
        if (frame.Pixels is { } pixels) return (long)pixels.Width * pixels.Height * 3;
        if (frame.RejectReason is not null || frame.Bytes.Length == 0) return 0;
        try { return SixLabors.ImageSharp.Image.Identify(frame.Bytes) is { } info ? (long)info.Width * info.Height * 3 : frame.Bytes.LongLength; }
        catch (Exception e) when (e is SixLabors.ImageSharp.UnknownImageFormatException or SixLabors.ImageSharp.InvalidImageContentException
                                   or NotSupportedException)
        {
            return frame.Bytes.LongLength; // the decoder will say what is wrong with it
        }
    }

    public async ValueTask PostWhenRoomAsync(Frame frame, CancellationToken cancel)
    {
        while (_channel.Reader.Count >= Capacity) await Task.Delay(5, cancel);
        Post(frame);
    }

    private void OnDropped(Frame frame)
    {
        _metrics.FrameDropped(frame.Product);
        long n = _metrics.Dropped;
        if (n == 1 || n % 100 == 0)
            _logger.LogWarning("Scoring cannot keep up: dropped frame {Frame} from {Source} (queue of {Capacity}; {Total} dropped so far)",
                               frame.Id, frame.Source, Capacity, n);
        frame.Pixels?.Dispose();
        frame.Completion?.Dropped();
    }
}
