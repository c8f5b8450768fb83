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

    /// <summary>Whether the signature is valid for <paramref name="hash"/> under the key carried in the file (and its statement names that payload).</summary>
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
        try { pem = System.Text.Encoding.UTF8.GetString(FileSystem.RegularFile.Read(path, 1 << 20)); }
        catch (FileSystem.FileRefusedException e) { throw new ArtifactException($"{path}: cannot read the key ({e.Message.Replace(path + ": ", "")})"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactException($"{path}: cannot read the key ({e.Message})");
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

    /// <summary>Signs a release statement (the form every artifact written by this version carries).</summary>
    public static ArtifactSignature Sign(ECDsa key, ReleaseStatement release)
    {
        byte[] statement = release.Encode();
        return new(KeyIdOf(key), ArtifactSignature.EcdsaP256Sha256, key.ExportSubjectPublicKeyInfo(), key.SignHash(SHA256.HashData(statement)), statement);
    }

    /// <summary>Signs bytes of another kind (a rollback authorisation): the signature over their SHA-256.</summary>
    public static byte[] SignData(ECDsa key, ReadOnlySpan<byte> data) => key.SignHash(SHA256.HashData(data));
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
            return $"the artifact is signed (key {s.KeyId}) without a release statement (product, version, expiry): sign it again with 'trainer sign'";
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

    /// <summary>Whether <paramref name="signature"/> over <paramref name="data"/>'s SHA-256 verifies under trusted key <paramref name="keyId"/>.</summary>
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
