using System.Collections.Concurrent;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// Every place where the agent lets something go instead of waiting (a frame not kept for teaching, a request
/// beyond its queue, a heat map the broker could not take, a page connection over the cap, ...) counts it here by
/// kind: exported on /metrics as edgepatchcore_dropped_total{what="KIND"} and logged at a limited rate (the first
/// of each kind at once, then at most one line per kind every <see cref="LogInterval"/>, with the count), so a flood
/// neither passes silently nor fills the journal.
/// </summary>
public sealed class DropCounter(ILogger<DropCounter> logger)
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, Kind> _kinds = new(StringComparer.Ordinal);

    private sealed class Kind
    {
        public long Count, LoggedCount;
        public long LoggedAt = long.MinValue;
    }

    /// <summary>Counts one drop of <paramref name="what"/>; <paramref name="why"/> is logged when the rate allows (keep it short and free of input
    /// text).</summary>
    public void Drop(string what, string why)
    {
        var kind = _kinds.GetOrAdd(what, _ => new Kind());
        long count = Interlocked.Increment(ref kind.Count);
        long now = Environment.TickCount64, last = Interlocked.Read(ref kind.LoggedAt);
        if (last != long.MinValue && now - last < LogInterval.TotalMilliseconds) return;
        if (Interlocked.CompareExchange(ref kind.LoggedAt, now, last) != last) return; // another thread logs this one
        long since = count - Interlocked.Exchange(ref kind.LoggedCount, count);
        logger.LogWarning("Dropped ({What}): {Why}; {Since} since the last report, {Count} in all", what, why, since, count);
    }

    public long Count(string what) => _kinds.TryGetValue(what, out var kind) ? Interlocked.Read(ref kind.Count) : 0;

    /// <summary>Every kind dropped so far with its count.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot() =>
        _kinds.Select(k => new KeyValuePair<string, long>(k.Key, Interlocked.Read(ref k.Value.Count))).OrderBy(k => k.Key,
            StringComparer.Ordinal).ToList();
}
