using System.Collections.Concurrent;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Messaging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// The scoring worker alone: a real scorer (the fixture's gasket model), frames posted to its queue, and sinks that
/// only remember what they were handed. No broker, no host.
/// </summary>
[Collection("agent")]
public class ScoringWorkerTests(AgentFixture fixture)
{
    /// <summary>An example consumer (what an OPC UA server or a historian would be): a class and one line of registration, nothing else.</summary>
    private sealed class RecordingSink(SinkKind kind, ConcurrentQueue<string> log, bool heatmaps = false) : IScoredFrameSink
    {
        public SinkKind Kind => kind;
        public bool UsesHeatmaps => heatmaps;
        public ConcurrentQueue<ScoredFrame> Frames { get; } = new();

        public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
        {
            log.Enqueue($"{kind} {frame.Verdict.FrameId}{(heatmaps && frame.Heatmap() is { Length: > 0 } ? " heatmap" : "")}");
            Frames.Enqueue(frame);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A durable sink whose disk is full for its first attempts.</summary>
    private sealed class FullDiskSink(int failures) : IScoredFrameSink
    {
        private int _left = failures;
        public SinkKind Kind => SinkKind.Durable;
        public bool UsesHeatmaps => false;
        public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel) =>
            Interlocked.Decrement(ref _left) >= 0 ? throw new IOException("No space left on device") : ValueTask.CompletedTask;
    }

    private sealed class Completion(ConcurrentQueue<string> log, string id) : IFrameCompletion
    {
        public void Completed(Verdict verdict) => log.Enqueue($"completed {id}");
        public void Dropped() => log.Enqueue($"dropped {id}");
    }

    private sealed class NoBroker : ITransientPublisher
    {
        public Task<bool> PublishTransientAsync(string topic, byte[] payload, CancellationToken cancel, string? frameId = null) => Task.FromResult(false);
    }

    /// <summary>What a worker needs around it: a state folder, the options (CPU, exact float32 bank), the fixture's model loaded, a queue.</summary>
    private sealed class WorkerRig : IDisposable
    {
        private readonly TempFolder _state = new();
        private readonly IOptions<AgentOptions> _options;
        private readonly TopicNames _topics;
        private readonly ModelStore _models;

        public AgentMetrics Metrics { get; } = new();
        public FrameQueue Queue { get; }

        public WorkerRig(string artifact, string name)
        {
            _options = Options.Create(new AgentOptions
            {
                Artifact = artifact, Device = EdgePatchCore.Devices.DeviceKind.Cpu, BankPrecision = EdgePatchCore.Search.BankPrecision.Float32,
                StateDirectory = _state.Path,
            });
            _topics = new TopicNames($"edgepatchcore/{name}");
            var events = new AgentEvents(new Outbox(_state.File("outbox"), 1000, sync: false, NullLogger.Instance), _topics);
            _models = new ModelStore(_options, new ModelAdmission(_options, new ReleaseLedger(_state.Path)), events, NullLogger<ModelStore>.Instance);
            Assert.True(_models.Load(_options.Value.AllModels[0]));
            _models.InitialLoadDone();
            Queue = new FrameQueue(_options, Metrics, NullLogger<FrameQueue>.Instance);
        }

        /// <summary>A worker whose chain holds <paramref name="sinks"/> in this registration order.</summary>
        public ScoringWorker Worker(params IScoredFrameSink[] sinks) => new(_options, Queue, _models,
            new SinkChain(sinks, Metrics, new NoBroker(), _topics, NullLogger<SinkChain>.Instance), Metrics, NullLogger<ScoringWorker>.Instance);

        public void Dispose()
        {
            _models.Dispose();
            _state.Dispose();
        }
    }

    [Fact]
    public async Task The_worker_hands_every_frame_to_durable_sinks_then_its_source_then_best_effort_sinks_with_trainer_scores()
    {
        using var rig = new WorkerRig(fixture.ModelA, "worker-test");
        var log = new ConcurrentQueue<string>();
        var durable = new RecordingSink(SinkKind.Durable, log);
        var bestEffort = new RecordingSink(SinkKind.BestEffort, log, heatmaps: true);
        // Registration order does not decide delivery order: best-effort sinks always come after the source is told.
        using var worker = rig.Worker(bestEffort, new FullDiskSink(failures: 2), durable);
        var (queue, metrics) = (rig.Queue, rig.Metrics);

        var files = fixture.Pngs.Take(4).ToList();
        foreach (var (file, i) in files.Select((f, i) => (f, i)))
            queue.Post(new Frame { Id = $"w{i}.png", Source = "test", Bytes = File.ReadAllBytes(file), Completion = new Completion(log, $"w{i}.png") });
        queue.Post(new Frame { Id = "broken.png", Source = "test", Bytes = "not an image"u8.ToArray(), Completion = new Completion(log, "broken.png") });
        using var stop = new CancellationTokenSource();
        await worker.StartAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (bestEffort.Frames.Count < 5 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await worker.StopAsync(CancellationToken.None);

        // Each frame: its durable sinks, then its source, then the best-effort sinks (with a heat map for a scored frame).
        var lines = log.ToList();
        foreach (var id in new[] { "w0.png", "w1.png", "w2.png", "w3.png", "broken.png" })
        {
            int stored = lines.IndexOf($"Durable {id}"), completed = lines.IndexOf($"completed {id}");
            int shown = lines.FindIndex(l => l.StartsWith($"BestEffort {id}", StringComparison.Ordinal));
            Assert.True(stored >= 0 && stored < completed && completed < shown, string.Join("\n", lines));
        }
        Assert.Contains("BestEffort w0.png heatmap", lines);
        Assert.Equal(Verdict.Error, durable.Frames.Single(f => f.Verdict.FrameId == "broken.png").Verdict.Result);
        Assert.True(metrics.IsOutboxWritable); // the full disk passed, and scoring went on

        // The scores are the trainer's (exact float32 bank), and the JSON handed to the outboxes is the verdict's.
        var expected = fixture.TrainerScores(fixture.ModelA, files);
        for (int i = 0; i < files.Count; i++)
        {
            var frame = durable.Frames.Single(f => f.Verdict.FrameId == $"w{i}.png");
            Assert.Equal(expected[files[i]], frame.Verdict.Score!.Value, 3);
            Assert.Equal(frame.Verdict.ToJson(), frame.VerdictJson);
        }
    }

    /// <summary>A durable sink that holds the first frame until it is let go.</summary>
    private sealed class HoldingSink : IScoredFrameSink
    {
        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Go { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<string> Frames { get; } = new();
        public SinkKind Kind => SinkKind.Durable;
        public bool UsesHeatmaps => false;

        public async ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
        {
            if (Frames.IsEmpty)
            {
                Holding.TrySetResult();
                await Go.Task.WaitAsync(cancel);
            }
            Frames.Enqueue(frame.Verdict.FrameId);
        }
    }

    [Fact]
    public async Task The_next_batch_is_decoded_while_the_current_one_is_still_being_scored_and_delivered()
    {
        using var rig = new WorkerRig(fixture.ModelA, "worker-overlap");
        var sink = new HoldingSink();
        using var worker = rig.Worker(sink);
        var (queue, metrics) = (rig.Queue, rig.Metrics);
        byte[] first = File.ReadAllBytes(fixture.Pngs[0]), second = File.ReadAllBytes(fixture.Pngs[1]);
        long firstBytes = Identified(first), secondBytes = Identified(second);
        using var stop = new CancellationTokenSource();
        await worker.StartAsync(stop.Token);
        queue.Post(new Frame { Id = "first.png", Source = "test", Bytes = first });
        await sink.Holding.Task.WaitAsync(TimeSpan.FromSeconds(60)); // the first batch is scored and now in its sink
        queue.Post(new Frame { Id = "second.png", Source = "test", Bytes = second });
        // While the first batch is held, the second is taken and decoded: both batches' frames are held at once.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (metrics.LargestBatchBytes < firstBytes + secondBytes && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(firstBytes + secondBytes, metrics.LargestBatchBytes);
        Assert.Empty(sink.Frames); // nothing delivered yet: the first is still held in its sink
        sink.Go.SetResult();
        deadline = DateTime.UtcNow.AddSeconds(60);
        while (sink.Frames.Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(10);
        await worker.StopAsync(CancellationToken.None);
        Assert.Equal(["first.png", "second.png"], sink.Frames.ToArray());
    }

    private static long Identified(byte[] image)
    {
        var info = SixLabors.ImageSharp.Image.Identify(image);
        return (long)info.Width * info.Height * 3;
    }
}
