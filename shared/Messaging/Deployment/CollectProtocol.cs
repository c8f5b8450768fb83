namespace EdgePatchCore.Deployment;

/// <summary>
/// `trainer collect` fetching an agent's teach set, on {prefix}/teach/collect (requests) and
/// {prefix}/teach/collect/{collectId} (answers). "list" answers with every taught frame (file, size, SHA-256,
/// what the model said, who taught it); "get" answers with a file's chunks from a given index, each with its
/// own SHA-256 (user properties file, index, count, sha256), as `trainer deploy` sends an artifact the other way.
/// The collector checks every chunk and the whole file against the list, so an interrupted collect resumes
/// from the chunks it already holds. "clear" (with <see cref="CollectRequest.Files"/>) removes frames the
/// collector holds safely from the device's teach set, answered by "cleared".
/// </summary>
public static class CollectProtocol
{
    public static string RequestTopic(string prefix) => prefix + "/teach/collect";
    public static string AnswerTopic(string prefix, string collectId) => $"{prefix}/teach/collect/{collectId}";

    public const string List = "list", Get = "get", Chunk = "chunk", Error = "error", Clear = "clear", Cleared = "cleared";
    public const string FileProperty = "file";
    public const int MinChunkBytes = 4 << 10, MaxChunkBytes = DeployProtocol.MaxChunkBytes;

    /// <summary>Collect ids name answer topics: hex digits only.</summary>
    public static bool IsValidCollectId(string? id) => DeployProtocol.IsValidTransferId(id);
}

/// <summary>A request: list the teach set (taught since <see cref="Since"/>), or get one file's chunks from <see cref="From"/>.</summary>
public sealed record CollectRequest(string Type, string CollectId, DateTimeOffset? Since = null, string? File = null, int From = 0, int ChunkSize = 256 << 10,
                                    IReadOnlyList<string>? Files = null);

/// <summary>One taught frame in the list: the file under the teach set, its size and hash, and its record.</summary>
public sealed record CollectEntry(string FrameId, string File, long Size, string Sha256, string? Product, string? ModelId, string Verdict,
                                  float? Score, float? Threshold, DateTimeOffset ScoredAt, string? By, string? Note, DateTimeOffset TaughtAt,
                                  string? FeatureSpec = null);

/// <summary>The answer to "list" (or an error, with <see cref="Message"/>).</summary>
public sealed record CollectAnswer(string Type, string DeviceId, IReadOnlyList<CollectEntry> Entries, string? Message = null);
