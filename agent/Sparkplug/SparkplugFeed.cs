using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// What the scoring worker hands the Sparkplug edge node: every verdict, stored in the edge node's own outbox
/// ({StateDirectory}/sparkplug/outbox) before the frame counts as done, so that no verdict is lost while the
/// node is offline; and the heat map of each defect frame, kept in memory for the DDATA that reports it.
/// When Sparkplug is off it stores nothing.
/// </summary>
public sealed class SparkplugFeed(Outbox? outbox)
{
    private readonly OrderedDictionary<string, byte[]> _heatmaps = new();
    private readonly object _lock = new();

    public bool Enabled => outbox is not null;
    public Outbox? Outbox => outbox;

    /// <summary>The topic the verdicts are stored under in the edge node's outbox (the edge node makes DDATA of them).</summary>
    public const string Topic = "verdict";
    /// <summary>The topic the handshake's answers are stored under (<see cref="SparkplugAnswerSink"/>).</summary>
    public const string ResultTopic = "result";

    /// <summary>Keeps a defect frame's heat map for the edge node (before its verdict is stored: the DDATA carries it).</summary>
    public void KeepHeatmap(Pipeline.ScoredFrame frame)
    {
        if (frame.Verdict.Result == Messages.Verdict.Defect && frame.Heatmap() is { } jpeg) Heatmap(frame.Verdict.FrameId, jpeg);
    }

    /// <summary>Keeps the heat map of a defect frame until the edge node publishes that frame's verdict (a few at most).</summary>
    public void Heatmap(string frameId, byte[] jpeg)
    {
        if (outbox is null) return;
        lock (_lock)
        {
            if (_heatmaps.Count >= 8) _heatmaps.RemoveAt(0); // the oldest
            _heatmaps[frameId] = jpeg;
        }
    }

    public byte[]? TakeHeatmap(string frameId)
    {
        lock (_lock) return _heatmaps.Remove(frameId, out var jpeg) ? jpeg : null;
    }
}
