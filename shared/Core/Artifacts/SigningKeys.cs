using System.Security.Cryptography;

namespace EdgePatchCore.Artifacts;

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
        catch (FileSystem.FileRefusedException e) { throw new ArtifactException($"{path}: cannot read the key " +
            $"({e.Message.Replace(path + ": ", "")})"); }
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
        return new(KeyIdOf(key), ArtifactSignature.EcdsaP256Sha256, key.ExportSubjectPublicKeyInfo(), key.SignHash(SHA256.HashData(statement)),
            statement);
    }

    /// <summary>Signs bytes of another kind (a rollback authorisation): the signature over their SHA-256.</summary>
    public static byte[] SignData(ECDsa key, ReadOnlySpan<byte> data) => key.SignHash(SHA256.HashData(data));
}
