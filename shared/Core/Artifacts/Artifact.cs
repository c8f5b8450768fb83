using System.Buffers;

namespace EdgePatchCore.Artifacts;

/// <summary>A loaded artifact whose checksum verified; <see cref="Signature"/> is checked by the caller's trusted keys.</summary>
public sealed record Artifact(ModelContent Content, string Id, int Version, long SizeBytes, byte[] Hash, ArtifactSignature? Signature)
{
    /// <summary>The signed release statement, when the artifact carries a well-formed one (trust it only after <see
    /// cref="TrustedKeys.Check"/>).</summary>
    public ReleaseStatement? Release
    {
        get
        {
            try { return Signature?.Release; }
            catch (ArtifactException) { return null; }
        }
    }
}
