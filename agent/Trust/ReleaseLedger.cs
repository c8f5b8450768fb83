using System.Text.Json;
using EdgePatchCore.FileSystem;

namespace EdgePatchCore.Agent.Trust;

/// <summary>
/// What this device has accepted, kept across restarts in {state}/trust/releases.json (written atomically
/// and durably): per product the release version it serves and its payload hash, the versions an
/// operator's rollback withdrew, and the rollback nonces already used (until their authorisation expires).
/// This is what makes versions only go forward: without it, any old signed artifact could be replayed.
/// </summary>
public sealed class ReleaseLedger
{
    public sealed record Entry(long Version, string PayloadSha256, DateTime AcceptedAtUtc, long[] Withdrawn);
    private sealed record State(Dictionary<string, Entry> Products, Dictionary<string, DateTime> UsedRollbacks);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private readonly string _path;
    private readonly object _lock = new();
    private State _state;

    public ReleaseLedger(string stateDirectory)
    {
        _path = Path.Combine(stateDirectory, "trust", "releases.json");
        _state = Load(_path);
    }

    public string FilePath => _path;

    public Entry? For(string product)
    {
        lock (_lock) return _state.Products.GetValueOrDefault(product);
    }

    /// <summary>Records a release that is now being served, when it is newer than the one on record.</summary>
    public void Accept(string product, long version, byte[] payloadSha256)
    {
        lock (_lock)
        {
            var old = _state.Products.GetValueOrDefault(product);
            if (old is not null && old.Version >= version) return;
            _state.Products[product] = new Entry(version, Convert.ToHexString(payloadSha256).ToLowerInvariant(), DateTime.UtcNow, old?.Withdrawn
                ?? []);
            Save();
        }
    }

    /// <summary>An authorised rollback: <paramref name="product"/> now serves <paramref name="toVersion"/>; the version it left is
    /// withdrawn.</summary>
    public void RollBack(string product, long toVersion, byte[] payloadSha256, string nonce, DateTime nonceExpiresUtc)
    {
        lock (_lock)
        {
            var old = _state.Products.GetValueOrDefault(product);
            var withdrawn = (old?.Withdrawn ?? []).ToList();
            if (old is not null && old.Version != toVersion && !withdrawn.Contains(old.Version)) withdrawn.Add(old.Version);
            withdrawn.Remove(toVersion);
            _state.Products[product] = new Entry(toVersion, Convert.ToHexString(payloadSha256).ToLowerInvariant(), DateTime.UtcNow,
                withdrawn.ToArray());
            _state.UsedRollbacks[nonce] = nonceExpiresUtc;
            foreach (var stale in _state.UsedRollbacks.Where(kv => kv.Value < DateTime.UtcNow.AddDays(-1)).Select(kv => kv.Key).ToList())
                _state.UsedRollbacks.Remove(stale);
            Save();
        }
    }

    public bool IsRollbackUsed(string nonce)
    {
        lock (_lock) return _state.UsedRollbacks.ContainsKey(nonce);
    }

    private void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        DurableFile.Write(_path, JsonSerializer.SerializeToUtf8Bytes(_state, Json));
    }

    private static State Load(string path)
    {
        if (!File.Exists(path)) return new State(new(StringComparer.Ordinal), new(StringComparer.Ordinal));
        try
        {
            var state = JsonSerializer.Deserialize<State>(RegularFile.Read(path, 16 << 20), Json);
            if (state?.Products is null || state.UsedRollbacks is null) throw new JsonException("sections missing");
            return new State(new(state.Products, StringComparer.Ordinal), new(state.UsedRollbacks, StringComparer.Ordinal));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            // Starting from nothing would accept any old signed release again: refuse to start instead.
            throw new InvalidOperationException($"the release ledger {path} cannot be read ({e.Message}); restore it from a backup, " +
                                                "or delete it to accept the next signed release of each product as the new baseline");
        }
    }
}
