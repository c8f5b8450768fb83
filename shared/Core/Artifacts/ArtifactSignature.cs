using System.Security.Cryptography;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// The signature block of an artifact: ECDSA P-256 with the signer's public key (so that `trainer inspect`
/// can check it without a key store) and its key id. The signature covers a <see cref="ReleaseStatement"/>
/// (product, release version, expiry and the payload's SHA-256), carried in <see cref="Statement"/>; files
/// signed before release statements existed carry none and are signed over the payload's SHA-256 alone,
/// which agents refuse (re-sign them). Trust is decided by the reader's own list of public keys, never by
/// the key carried in the file.
/// </summary>
public sealed record ArtifactSignature(string KeyId, string Algorithm, byte[] PublicKey, byte[] Signature, byte[]? Statement = null)
{
    public const string EcdsaP256Sha256 = "ECDSA-P256-SHA256";

    /// <summary>The release statement the signature covers, or null for a signature over the payload alone.</summary>
    public ReleaseStatement? Release => Statement is null ? null : ReleaseStatement.Decode(Statement);

    /// <summary>What the signature is over: the statement's SHA-256, or the payload hash for a file without one.</summary>
    public byte[] SignedHash(byte[] payloadHash) => Statement is null ? payloadHash : SHA256.HashData(Statement);

    /// <summary>Whether the signature is valid for <paramref name="hash"/> under the key carried in the file (and its statement names that
    /// payload).</summary>
    public bool IsValidFor(byte[] hash)
    {
        if (Algorithm != EcdsaP256Sha256) return false;
        try
        {
            if (Statement is not null && !Release!.PayloadSha256.AsSpan().SequenceEqual(hash)) return false;
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(PublicKey, out _);
            return SigningKeys.KeyIdOf(key) == KeyId && key.VerifyHash(SignedHash(hash), Signature);
        }
        catch (Exception e) when (e is CryptographicException or ArtifactException) { return false; }
    }
}
