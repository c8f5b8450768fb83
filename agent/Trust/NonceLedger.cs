using System.Globalization;

namespace EdgePatchCore.Agent.Trust;

/// <summary>
/// The nonces of the authenticated control messages this device has taken (teach marks, collect requests, the
/// revert of a derived model), each until the message it came with expires: a message recorded off the broker and
/// sent again is refused as a replay, across restarts too. Kept in {state}/trust/nonces.log, one "EXPIRY NONCE" line
/// appended (and flushed to disk) per message; expired lines are dropped at start and whenever they outnumber the live
/// ones. Bounded:
/// beyond <see cref="Capacity"/> live nonces new messages are refused until old ones expire (messages expire in minutes).
/// </summary>
public sealed class NonceLedger
{
    public const int Capacity = 100_000;
    private readonly string _path;
    private readonly Dictionary<string, DateTimeOffset> _used = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private int _lines, _liveAtCompaction; // lines in the file (live or expired); live nonces when it was last compacted

    public NonceLedger(string stateDirectory)
    {
        _path = Path.Combine(stateDirectory, "trust", "nonces.log");
        if (!File.Exists(_path)) return;
        var now = DateTimeOffset.UtcNow;
        foreach (var line in File.ReadLines(_path))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)
                && DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253_402_300_799_999)) is var expiry && expiry > now)
                _used[parts[1]] = expiry;
        }
        Compact();
    }

    /// <summary>Rewrites the file with the live nonces only (atomically); at start, and when expired lines outnumber the live ones.</summary>
    private void Compact()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var stale in _used.Where(u => u.Value <= now).Select(u => u.Key).ToList()) _used.Remove(stale);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        FileSystem.DurableFile.Write(_path, System.Text.Encoding.UTF8.GetBytes(string.Concat(_used.Select(u => Line(u.Key, u.Value)))));
        _lines = _liveAtCompaction = _used.Count;
    }

    public int Count { get { lock (_lock) return _used.Count; } }

    /// <summary>Records <paramref name="nonce"/> until <paramref name="expiresAt"/>; null when taken, else why it is refused (a replay, or the ledger
    /// is full).</summary>
    public string? TryUse(string nonce, DateTimeOffset expiresAt)
    {
        lock (_lock)
        {
            var now = DateTimeOffset.UtcNow;
            if (_used.TryGetValue(nonce, out var until) && until > now) return "this message was already used (replay refused)";
            if (_used.Count >= Capacity)
            {
                foreach (var stale in _used.Where(u => u.Value <= now).Select(u => u.Key).ToList()) _used.Remove(stale);
                if (_used.Count >= Capacity) return $"too many control messages in their validity window ({Capacity}); try again in a few minutes";
            }
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            using (var file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                file.Write(System.Text.Encoding.UTF8.GetBytes(Line(nonce, expiresAt)));
                file.Flush(flushToDisk: true); // a replay after a power cut is refused too
            }
            _used[nonce] = expiresAt;
            if (++_lines > Math.Max(1000, 2 * _liveAtCompaction)) Compact(); // the file stays within about twice the live nonces
            return null;
        }
    }

    private static string Line(string nonce, DateTimeOffset expiresAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{expiresAt.ToUnixTimeMilliseconds()} {nonce}\n");
}
