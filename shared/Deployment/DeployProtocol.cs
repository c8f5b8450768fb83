using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgePatchCore.Deployment;

/// <summary>
/// Over-the-air deployment between `trainer deploy` and an agent, on {prefix}/deploy/request and
/// {prefix}/deploy/status. The artifact travels in chunks, each with its own SHA-256, plus the whole
/// file's SHA-256. The transfer id is derived from the file's hash, so sending the same file again
/// resumes: the agent answers "begin" with the chunks it still misses.
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

    public const int MaxChunkBytes = 4 << 20;
    public const long MaxArtifactBytes = 8L << 30;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string TransferIdOf(string sha256Hex) => sha256Hex[..16];

    /// <summary>Transfer ids name folders on the device: hex digits only.</summary>
    public static bool IsValidTransferId(string? id) => id is { Length: >= 8 and <= 64 } && id.All(Uri.IsHexDigit);

    public static string Hex(byte[] hash) => Convert.ToHexString(hash).ToLowerInvariant();
}

/// <summary>The "begin" request: what is coming.</summary>
public sealed record DeployBegin(string TransferId, string FileName, long Size, string Sha256, int ChunkSize, int ChunkCount)
{
    public string? Validate()
    {
        if (!DeployProtocol.IsValidTransferId(TransferId)) return "invalid transfer id";
        if (Size <= 0 || Size > DeployProtocol.MaxArtifactBytes) return $"size {Size} out of range";
        if (ChunkSize <= 0 || ChunkSize > DeployProtocol.MaxChunkBytes) return $"chunk size {ChunkSize} out of range";
        if (ChunkCount != (int)((Size + ChunkSize - 1) / ChunkSize)) return "chunk count does not match size and chunk size";
        if (Sha256 is not { Length: 64 } || !Sha256.All(Uri.IsHexDigit)) return "invalid SHA-256";
        return null;
    }

    public int ChunkLength(int index) => index < ChunkCount - 1 ? ChunkSize : (int)(Size - (long)ChunkSize * (ChunkCount - 1));
}

/// <summary>The agent's answers.</summary>
public sealed record DeployStatus(string TransferId, string State, int[]? Missing = null, string? Model = null, string? Reason = null);

/// <summary>A rollback request: restore the artifact that was served before the last deployment.</summary>
public sealed record DeployRollback(string TransferId, string? Product = null);
