using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgePatchCore.Deployment;

/// <summary>
/// Over-the-air deployment between `trainer deploy` and an agent, on {prefix}/deploy/request and
/// {prefix}/deploy/status. The artifact travels in chunks, each with its own SHA-256, plus the whole
/// file's SHA-256. The transfer id is derived from the file's hash, so sending the same file again
/// resumes: the agent answers "begin" with the chunks it still misses. "begin" names the model's product
/// and, to replace another product's model, the slot to put it in; the agent keeps one transfer per slot.
/// Every size is checked in 64-bit arithmetic against the agent's limits before anything is stored.
/// </summary>
public static class DeployProtocol
{
    public static string RequestTopic(string prefix) => prefix + "/deploy/request";
    public static string StatusTopic(string prefix) => prefix + "/deploy/status";

    /// <summary>User properties of request messages.</summary>
    public const string TypeProperty = "type", TransferProperty = "transferId", IndexProperty = "index", HashProperty = "sha256";
    public const string Begin = "begin", Chunk = "chunk", Commit = "commit", Rollback = "rollback";

    /// <summary>States in <see cref="DeployStatus"/>.</summary>
    public const string Receiving = "receiving", Deployed = "deployed", Refused = "refused", RolledBack = "rolled-back";

    /// <summary>Chunks are 64 KiB to 4 MiB: smaller ones would make a transfer of millions of chunks.</summary>
    public const int MinChunkBytes = 64 << 10, MaxChunkBytes = 4 << 20;
    /// <summary>A status lists at most this many missing chunks (and how many there are); the sender works through them in rounds.</summary>
    public const int MaxMissingListed = 1024;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        MaxDepth = 8,
    };

    public static string TransferIdOf(string sha256Hex) => sha256Hex[..16];

    /// <summary>Transfer ids name folders on the device: hex digits only.</summary>
    public static bool IsValidTransferId(string? id) => id is { Length: >= 8 and <= 64 } && id.All(Uri.IsHexDigit);

    /// <summary>Product and slot names travel in requests and name transfers: short, printable, no path separators.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: >= 1 and <= 128 } && !name.Any(c => char.IsControl(c) || c is '/' or '\\') && name is not ("." or "..");

    public static string Hex(byte[] hash) => Convert.ToHexString(hash).ToLowerInvariant();

    /// <summary>The chunk count for a file of <paramref name="size"/> bytes, in 64-bit arithmetic.</summary>
    public static long ChunkCountFor(long size, int chunkSize) => (size + chunkSize - 1) / chunkSize;
}

/// <summary>
/// The "begin" request: what is coming, for which product, into which slot, and (for a signed artifact)
/// its release version, so that an agent can refuse an old release before it is transferred; the
/// signed statement itself is checked again once the file is complete.
/// </summary>
public sealed record DeployBegin(string TransferId, string FileName, long Size, string Sha256, int ChunkSize, int ChunkCount,
                                 string? Product = null, string? Slot = null, long? ReleaseVersion = null)
{
    /// <summary>Null when the request is well formed and within <paramref name="maxArtifactBytes"/>; else why not.</summary>
    public string? Validate(long maxArtifactBytes)
    {
        if (!DeployProtocol.IsValidTransferId(TransferId)) return "invalid transfer id";
        if (FileName is not { Length: >= 1 and <= 255 } || FileName.Any(char.IsControl)) return "invalid file name";
        if (!DeployProtocol.IsValidName(Product)) return "the request names no valid product (update the trainer)";
        if (Slot is not null && !DeployProtocol.IsValidName(Slot)) return "invalid slot name";
        if (Size <= 0 || Size > maxArtifactBytes) return $"size {Size} bytes is outside 1..{maxArtifactBytes} (Agent:Deployment:MaxArtifactBytes)";
        if (ChunkSize < DeployProtocol.MinChunkBytes || ChunkSize > DeployProtocol.MaxChunkBytes)
            return $"chunk size {ChunkSize} is outside {DeployProtocol.MinChunkBytes}..{DeployProtocol.MaxChunkBytes} bytes";
        if (ChunkCount != DeployProtocol.ChunkCountFor(Size, ChunkSize)) return "chunk count does not match size and chunk size";
        if (Sha256 is not { Length: 64 } || !Sha256.All(Uri.IsHexDigit)) return "invalid SHA-256";
        return null;
    }

    public int ChunkLength(int index) => index < ChunkCount - 1 ? ChunkSize : (int)(Size - (long)ChunkSize * (ChunkCount - 1));
}

/// <summary>
/// The agent's answers. <see cref="Missing"/> lists at most <see cref="DeployProtocol.MaxMissingListed"/>
/// chunk indices; <see cref="MissingCount"/> says how many are missing in all.
/// </summary>
public sealed record DeployStatus(string TransferId, string State, int[]? Missing = null, string? Model = null, string? Reason = null,
                                  int? MissingCount = null, long? ReleaseVersion = null);

/// <summary>
/// A rollback request: restore the artifact that was served before the last deployment. On an agent
/// with trusted keys it must carry an <see cref="Authorization"/> signed by one of them.
/// </summary>
public sealed record DeployRollback(string TransferId, string? Product = null, RollbackAuthorization? Authorization = null);
