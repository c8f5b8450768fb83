using System.Security.Cryptography;
using System.Text.Json;
using EdgePatchCore.FileSystem;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Deployment;

/// <summary>
/// The receiving half of the deploy protocol's transfers (<see cref="DeployProtocol"/>): each transfer's verified
/// chunks stored under {root}/transfers/{id} next to its begin.json, so that an interrupted transfer resumes (after a
/// restart too), the missing chunks listed, and the whole file assembled and checked against its SHA-256. What a
/// transfer is for (<typeparamref name="TSlot"/>: the agent's model slot) and what happens to the file are the
/// caller's. Not thread-safe: one request at a time, as the agent's deploy service takes them.
/// </summary>
public sealed class TransferStore<TSlot>(string root, ILogger logger) where TSlot : class
{
    /// <summary>One transfer in progress: where its chunks are, which it has, and the slot and file it is for.</summary>
    public sealed class Transfer(DeployBegin begin, string directory, TSlot slot, string target)
    {
        public DeployBegin Begin { get; } = begin;
        public string Directory { get; } = directory;
        public TSlot Slot { get; } = slot;
        /// <summary>The full path of the file the transfer will replace (one transfer per target).</summary>
        public string Target { get; } = target;
        internal bool[] Received { get; } = new bool[begin.ChunkCount];
        public int ReceivedCount { get; internal set; }
        public DateTime LastActivityUtc { get; set; } = DateTime.UtcNow;
    }

    private readonly Dictionary<string, Transfer> _byId = new(StringComparer.Ordinal);

    public IReadOnlyCollection<Transfer> InProgress => _byId.Values;

    public bool TryGet(string id, out Transfer transfer) => _byId.TryGetValue(id, out transfer!);

    /// <summary>Why a transfer of this size cannot start here (too little free space), or null.</summary>
    public string? SpaceProblem(DeployBegin begin)
    {
        Directory.CreateDirectory(root);
        long free = new DriveInfo(root).AvailableFreeSpace;
        long needed = 2 * begin.Size + (64L << 20); // the chunks, then the assembled file beside them
        return free < needed ? $"not enough free space in the state directory ({free >> 20} MiB free, {needed >> 20} MiB needed)" : null;
    }

    /// <summary>The transfer of <paramref name="begin"/>: the one in progress with the same id and layout, or a new one.</summary>
    public Transfer Open(DeployBegin begin, TSlot slot, string target)
    {
        if (_byId.TryGetValue(begin.TransferId, out var existing))
        {
            if (existing.Begin == begin) return existing;
            Delete(existing); // same id, other layout: start over
        }
        string dir = TransferDirectory(begin.TransferId);
        Directory.CreateDirectory(dir);
        DurableFile.Write(Path.Combine(dir, "begin.json"), JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json), sync: false);
        return Track(begin, dir, slot, target);
    }

    /// <summary>
    /// Stores one chunk if it belongs to a transfer in progress, has the length its index gives and the SHA-256 it was
    /// sent with; a duplicate (a QoS 1 redelivery, a resend) is ignored, a damaged one dropped to be asked for again.
    /// </summary>
    public void Accept(string id, string? indexText, string? hash, byte[] payload)
    {
        if (!_byId.TryGetValue(id, out var transfer)
            || !int.TryParse(indexText, out int index) || index < 0 || index >= transfer.Begin.ChunkCount)
        {
            logger.LogDebug("Deploy: chunk for an unknown transfer or index ({Transfer})", Cap(id));
            return;
        }
        transfer.LastActivityUtc = DateTime.UtcNow;
        if (transfer.Received[index]) return;
        if (payload.Length != transfer.Begin.ChunkLength(index) || DeployProtocol.Hex(SHA256.HashData(payload)) != hash)
        {
            logger.LogWarning("Deploy {Transfer}: chunk {Index} damaged in transit; it will be asked for again", id, index);
            return;
        }
        DurableFile.Write(ChunkPath(transfer.Directory, index), payload, sync: false); // the whole file's hash is checked at commit
        transfer.Received[index] = true;
        transfer.ReceivedCount++;
    }

    /// <summary>The first <see cref="DeployProtocol.MaxMissingListed"/> chunks not yet received, and how many are missing in all.</summary>
    public static (int[] Listed, int Count) Missing(Transfer transfer)
    {
        var listed = new List<int>(Math.Min(DeployProtocol.MaxMissingListed, transfer.Begin.ChunkCount - transfer.ReceivedCount));
        for (int i = 0; i < transfer.Received.Length && listed.Count < DeployProtocol.MaxMissingListed; i++)
            if (!transfer.Received[i]) listed.Add(i);
        return (listed.ToArray(), transfer.Begin.ChunkCount - transfer.ReceivedCount);
    }

    /// <summary>
    /// Joins a complete transfer's chunks into one file (flushed to disk) and checks the whole file's SHA-256. Returns
    /// its path, or null when the hash does not match (the transfer is then deleted: it must be sent again).
    /// </summary>
    public string? Assemble(Transfer transfer)
    {
        var begin = transfer.Begin;
        string assembled = Path.Combine(transfer.Directory, "artifact.pcb");
        using (var output = File.Create(assembled))
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            for (int i = 0; i < begin.ChunkCount; i++)
            {
                var bytes = RegularFile.Read(ChunkPath(transfer.Directory, i), begin.ChunkSize);
                sha.AppendData(bytes);
                output.Write(bytes);
            }
            output.Flush(flushToDisk: true);
            if (DeployProtocol.Hex(sha.GetHashAndReset()) == begin.Sha256) return assembled;
        }
        Delete(transfer);
        return null;
    }

    /// <summary>
    /// Picks up transfers interrupted by a restart, and deletes those that expired, are unreadable, or no longer have
    /// a slot (<paramref name="slotFor"/> gives a valid begin's slot and target, or null).
    /// </summary>
    public void Recover(TimeSpan expiry, Func<DeployBegin, (TSlot Slot, string Target)?> slotFor)
    {
        string transfers = Path.Combine(root, "transfers");
        if (!Directory.Exists(transfers)) return;
        foreach (var dir in Directory.EnumerateDirectories(transfers))
        {
            try
            {
                var begin = JsonSerializer.Deserialize<DeployBegin>(RegularFile.Read(Path.Combine(dir, "begin.json"), 64 << 10), DeployProtocol.Json);
                var slot = begin is null || Path.GetFileName(dir) != begin.TransferId ? null : slotFor(begin);
                if (begin is null || slot is not { } s || DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) > expiry
                    || _byId.Values.Any(t => t.Target == s.Target))
                {
                    Directory.Delete(dir, recursive: true);
                    continue;
                }
                var transfer = Track(begin, dir, s.Slot, s.Target);
                logger.LogInformation("Deploy {Transfer}: resumable after the restart ({Received} of {Chunks} chunks)", begin.TransferId,
                                      transfer.ReceivedCount, begin.ChunkCount);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
            {
                logger.LogWarning("Deploy: removing unreadable transfer {Dir} ({Reason})", dir, e.Message);
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
        }
    }

    /// <summary>Deletes the transfers without progress for <paramref name="expiry"/>.</summary>
    public void Expire(TimeSpan expiry)
    {
        var limit = DateTime.UtcNow - expiry;
        foreach (var stale in _byId.Values.Where(t => t.LastActivityUtc < limit).ToList())
        {
            logger.LogInformation("Deploy {Transfer}: expired after {Minutes} min without progress; its chunks are deleted", stale.Begin.TransferId,
                                  expiry.TotalMinutes);
            Delete(stale);
        }
    }

    public void Delete(Transfer transfer)
    {
        _byId.Remove(transfer.Begin.TransferId);
        try { Directory.Delete(transfer.Directory, recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException e) { logger.LogWarning("Deploy: cannot delete {Dir}: {Reason}", transfer.Directory, e.Message); }
    }

    private Transfer Track(DeployBegin begin, string dir, TSlot slot, string target)
    {
        var transfer = new Transfer(begin, dir, slot, target);
        for (int i = 0; i < begin.ChunkCount; i++)
        {
            if (!File.Exists(ChunkPath(dir, i))) continue;
            transfer.Received[i] = true;
            transfer.ReceivedCount++;
        }
        _byId[begin.TransferId] = transfer;
        return transfer;
    }

    private string TransferDirectory(string transfer) => Path.Combine(root, "transfers", transfer);
    private static string ChunkPath(string dir, int index) => Path.Combine(dir, $"{index:D6}.chunk");
    private static string Cap(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
