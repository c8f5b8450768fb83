namespace EdgePatchCore.Agent.Configuration;

public sealed class PublishingOptions
{
    public double MetricsIntervalSeconds { get; set; } = 30;
    /// <summary>Publish a JPEG overlay on {prefix}/heatmap for frames judged defect.</summary>
    public bool Heatmaps { get; set; }
    /// <summary>Outbox cap: beyond it the oldest unpublished verdicts are discarded (counted and logged).</summary>
    public int OutboxMaxMessages { get; set; } = 100_000;
    /// <summary>Outbox cap in bytes, applied the same way.</summary>
    public long OutboxMaxBytes { get; set; } = 1L << 30;
    /// <summary>A message the broker refuses (or drops the connection over) this many times in a row is set aside in outbox/rejected/.</summary>
    public int MaxPublishAttempts { get; set; } = 5;
    /// <summary>After a lost connection, messages the broker acknowledged this many seconds before are published again (0: off).</summary>
    public double RepublishWindowSeconds { get; set; } = 5;
    /// <summary>fsync each outbox entry, so that a power cut loses nothing (turn off only on wear-sensitive storage).</summary>
    public bool OutboxSync { get; set; } = true;
}
