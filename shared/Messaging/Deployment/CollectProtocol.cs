namespace EdgePatchCore.Deployment;

/// <summary>
/// `trainer collect` fetching an agent's teach set, on {prefix}/teach/collect (requests) and
/// {prefix}/teach/collect/{collectId} (answers). Every request is a <see cref="CollectRequest"/> signed with the plant
/// key (<see cref="SignedStatement"/>): it names the device's topic prefix, expires within minutes and carries a
/// nonce the agent remembers, so it cannot be sent to another device or sent again; the agent takes it only under one
/// of its TrustedKeys. Every answer names the device, its prefix and the nonce of the request it answers (a chunk in
/// its user property "request"), and the collector drops anything else.
/// "list" answers with every taught frame (file, size, SHA-256, what the model said, who taught it); "get" answers
/// with a file's chunks from a given index, each with its own SHA-256 (user properties file, index, count, sha256,
/// request), as `trainer deploy` sends an artifact the other way. The collector checks every chunk and the whole
/// file against the list, so an interrupted collect resumes from the chunks it already holds. "clear" (with
/// <see cref="CollectRequest.Files"/>) removes frames the collector holds safely from the device's teach set,
/// answered by "cleared". "revert" (with <see cref="CollectRequest.Product"/>) makes the device serve the signed
/// model again instead of one it derived by teaching, answered by "reverted".
/// </summary>
public static class CollectProtocol
{
    public static string RequestTopic(string prefix) => prefix + "/teach/collect";
    public static string AnswerTopic(string prefix, string collectId) => $"{prefix}/teach/collect/{collectId}";

    public const string List = "list", Get = "get", Chunk = "chunk", Error = "error", Clear = "clear", Cleared = "cleared", Revert = "revert",
        Reverted = "reverted";
    public const string FileProperty = "file", RequestProperty = "request";
    public const int MinChunkBytes = 4 << 10, MaxChunkBytes = DeployProtocol.MaxChunkBytes;
    public const string SchemaName = "edgepatchcore.collect/1";
    /// <summary>How long a signed request is valid (and its nonce remembered by the agent).</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromMinutes(5);

    /// <summary>Collect ids name answer topics: hex digits only.</summary>
    public static bool IsValidCollectId(string? id) => DeployProtocol.IsValidTransferId(id);

    /// <summary>Nonces: 16..64 letters and digits.</summary>
    public static bool IsValidNonce(string? nonce) => nonce is { Length: >= 16 and <= 64 } && nonce.All(char.IsAsciiLetterOrDigit);
}
