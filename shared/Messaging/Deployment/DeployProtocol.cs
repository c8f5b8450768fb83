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
