using System.Security.Cryptography;

namespace EdgePatchCore.Artifacts;

/// <summary>The public keys a reader trusts (the agent's TrustedKeys), by key id.</summary>
public sealed class TrustedKeys
{
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    public TrustedKeys(IEnumerable<string> publicKeyFiles)
    {
        foreach (var file in publicKeyFiles)
        {
            using var key = SigningKeys.LoadPublic(file);
            _keys[SigningKeys.KeyIdOf(key)] = key.ExportSubjectPublicKeyInfo();
        }
    }

    public int Count => _keys.Count;

    /// <summary>
    /// Null when <paramref name="artifact"/> is signed by one of these keys, the signature verifies, and its
    /// release statement names this payload and this product; else why not.
    /// </summary>
    public string? Check(Artifact artifact)
    {
        var s = artifact.Signature;
        if (s is null) return "the artifact is not signed";
        if (!_keys.ContainsKey(s.KeyId)) return $"the artifact is signed with key {s.KeyId}, which is not among the trusted keys";
        if (s.Statement is null)
            return $"the artifact is signed (key {s.KeyId}) without a release statement (product, version, expiry): sign it again with 'trainer " +
                $"sign'";
        if (!Verify(s.KeyId, s.Statement, s.Signature) || s.Algorithm != ArtifactSignature.EcdsaP256Sha256)
            return $"the signature (key {s.KeyId}) does not verify: the release statement was modified after signing";
        ReleaseStatement release;
        try { release = s.Release!; }
        catch (ArtifactException e) { return e.Message; }
        if (!release.PayloadSha256.AsSpan().SequenceEqual(artifact.Hash))
            return $"the signature (key {s.KeyId}) does not verify: the artifact was modified after signing";
        if (!string.Equals(release.Product, artifact.Content.Manifest.Product, StringComparison.Ordinal))
            return $"the release statement names product '{release.Product}' but the model is for '{artifact.Content.Manifest.Product}'";
        return null;
    }

    /// <summary>Whether <paramref name="signature"/> over <paramref name="data"/>'s SHA-256 verifies under trusted key <paramref
    /// name="keyId"/>.</summary>
    public bool Verify(string keyId, ReadOnlySpan<byte> data, byte[] signature)
    {
        if (!_keys.TryGetValue(keyId, out var spki)) return false;
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        try { return key.VerifyHash(SHA256.HashData(data), signature); }
        catch (CryptographicException) { return false; }
    }

    public bool Contains(string keyId) => _keys.ContainsKey(keyId);
}
