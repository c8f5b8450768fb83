using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

public class FrameQueueTests
{
    private sealed class Recorder : IFrameCompletion
    {
        public int DroppedCalls;
        public void Completed(Verdict verdict) { }
        public void Dropped() => Interlocked.Increment(ref DroppedCalls);
    }

    private static (FrameQueue Queue, AgentMetrics Metrics) Create(int capacity)
    {
        var options = Options.Create(new AgentOptions { Pipeline = new PipelineOptions { QueueCapacity = capacity } });
        var metrics = new AgentMetrics();
        return (new FrameQueue(options, metrics, NullLogger<FrameQueue>.Instance), metrics);
    }

    private static Frame NewFrame(string id, IFrameCompletion? completion = null) =>
        new() { Id = id, Source = "test", Bytes = [1, 2, 3], Completion = completion };

    [Fact]
    public async Task A_full_queue_drops_the_oldest_frame_counts_it_and_tells_its_source()
    {
        var (queue, metrics) = Create(capacity: 2);
        var first = new Recorder();
        queue.Post(NewFrame("f1", first));
        queue.Post(NewFrame("f2"));
        queue.Post(NewFrame("f3"));
        Assert.Equal(2, queue.Count);
        Assert.Equal(1, metrics.Dropped);
        Assert.Equal(3, metrics.FramesIn);
        Assert.Equal(1, first.DroppedCalls);
        Assert.Equal("f2", (await queue.Reader.ReadAsync()).Id);
        Assert.Equal("f3", (await queue.Reader.ReadAsync()).Id);
    }

    [Fact]
    public async Task Posting_when_there_is_room_waits_instead_of_dropping()
    {
        var (queue, metrics) = Create(capacity: 1);
        queue.Post(NewFrame("f1"));
        var waiting = queue.PostWhenRoomAsync(NewFrame("f2"), CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted, "the post did not wait for room");
        Assert.Equal("f1", (await queue.Reader.ReadAsync()).Id);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("f2", (await queue.Reader.ReadAsync()).Id);
        Assert.Equal(0, metrics.Dropped);

        // A cancelled wait gives up without posting.
        queue.Post(NewFrame("f3"));
        using var cancel = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.PostWhenRoomAsync(NewFrame("f4"), cancel.Token).AsTask());
        Assert.Equal(1, queue.Count);
    }
}
