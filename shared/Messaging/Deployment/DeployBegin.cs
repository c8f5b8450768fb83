namespace EdgePatchCore.Deployment;

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
