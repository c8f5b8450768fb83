using System.Security.Cryptography;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// The signature block of an artifact: ECDSA P-256 over the payload's SHA-256, with the signer's public
/// key (so that `trainer inspect` can check it without a key store) and its key id. Trust is decided by
/// the reader's own list of public keys, never by the key carried in the file.
/// </summary>
public sealed record ArtifactSignature(string KeyId, string Algorithm, byte[] PublicKey, byte[] Signature)
{
    public const string EcdsaP256Sha256 = "ECDSA-P256-SHA256";

    /// <summary>Whether the signature is valid for <paramref name="hash"/> under the key carried in the file.</summary>
    public bool IsValidFor(byte[] hash)
    {
        if (Algorithm != EcdsaP256Sha256) return false;
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(PublicKey, out _);
            return SigningKeys.KeyIdOf(key) == KeyId && key.VerifyHash(hash, Signature);
        }
        catch (CryptographicException) { return false; }
    }
}

/// <summary>Key handling for artifact signing: generation, PEM files, key ids.</summary>
public static class SigningKeys
{
    /// <summary>A short, stable name for a public key: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ECDsa key) => Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()), 0, 8).ToLowerInvariant();

    /// <summary>
    /// Writes a new P-256 key pair: the private key (PKCS#8 PEM, created with mode 0600 before any key
    /// byte is written) and the public key next to it as NAME.pub.pem. Refuses to overwrite.
    /// </summary>
    public static (string PrivatePath, string PublicPath, string KeyId) Generate(string path)
    {
        string privatePath = Path.GetFullPath(path);
        string publicPath = PublicPathFor(privatePath);
        foreach (var p in new[] { privatePath, publicPath })
            if (File.Exists(p)) throw new ArtifactException($"{p} already exists; not overwriting a key");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(privatePath, System.Text.Encoding.ASCII, options))
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem());
        return (privatePath, publicPath, KeyIdOf(key));
    }

    public static string PublicPathFor(string privatePath) =>
        (privatePath.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) ? privatePath[..^4] : privatePath) + ".pub.pem";

    /// <summary>Loads a private key PEM (PKCS#8 or SEC1 "EC PRIVATE KEY").</summary>
    public static ECDsa LoadPrivate(string path) => Load(path, requirePrivate: true);

    /// <summary>Loads a public key PEM (a private key file also works: its public half is used).</summary>
    public static ECDsa LoadPublic(string path) => Load(path, requirePrivate: false);

    private static ECDsa Load(string path, bool requirePrivate)
    {
        string pem;
        try { pem = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactException($"{path}: cannot read the key ({(e is FileNotFoundException ? "no such file" : e.Message)})");
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256) throw new ArtifactException($"{path}: not a P-256 key");
            if (requirePrivate)
            {
                try { key.ExportParameters(includePrivateParameters: true); }
                catch (CryptographicException) { throw new ArtifactException($"{path}: this is a public key; signing needs the private key"); }
            }
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArtifactException($"{path}: not an EC key in PEM format ({e.Message})");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static ArtifactSignature Sign(ECDsa key, byte[] hash) =>
        new(KeyIdOf(key), ArtifactSignature.EcdsaP256Sha256, key.ExportSubjectPublicKeyInfo(), key.SignHash(hash));
}

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

    /// <summary>Null when <paramref name="artifact"/> is signed by one of these keys and the signature verifies; else why not.</summary>
    public string? Check(Artifact artifact)
    {
        var s = artifact.Signature;
        if (s is null) return "the artifact is not signed";
        if (!_keys.TryGetValue(s.KeyId, out var spki)) return $"the artifact is signed with key {s.KeyId}, which is not among the trusted keys";
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        return s.Algorithm == ArtifactSignature.EcdsaP256Sha256 && key.VerifyHash(artifact.Hash, s.Signature)
            ? null : $"the signature (key {s.KeyId}) does not verify: the artifact was modified after signing";
    }
}
