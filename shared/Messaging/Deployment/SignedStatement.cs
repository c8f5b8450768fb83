using System.Security.Cryptography;
using EdgePatchCore.Artifacts;

namespace EdgePatchCore.Deployment;

/// <summary>
/// A statement as an operator's key signs it for an agent (a rollback, a collect request): its exact JSON bytes
/// (base64), the signing key's id, and the ECDSA P-256 signature over their SHA-256. The agent checks the signature
/// against its TrustedKeys before it reads a word of the statement.
/// </summary>
public sealed record SignedStatement(string? Statement, string? KeyId, string? Signature)
{
    public static SignedStatement Sign(byte[] statement, ECDsa key) =>
        new(Convert.ToBase64String(statement), SigningKeys.KeyIdOf(key), Convert.ToBase64String(SigningKeys.SignData(key, statement)));

    /// <summary>A statement nobody signed, for agents that accept unsigned control messages (a lab without trusted keys).</summary>
    public static SignedStatement Unsigned(byte[] statement) => new(Convert.ToBase64String(statement), null, null);

    /// <summary>The statement's bytes when the signature verifies under one of <paramref name="trusted"/>; else null and why not.</summary>
    /// <param name="what">names the statement in the reason, e.g. "the rollback"</param>
    public byte[]? Verify(TrustedKeys trusted, string what, out string? why)
    {
        if (!TryDecode(out var bytes, out var signature))
        {
            why = $"{what} is not valid base64";
            return null;
        }
        if (KeyId is null || Signature is null)
        {
            why = $"{what} is not signed (sign it with the plant key: --sign KEY.pem)";
            return null;
        }
        if (!trusted.Contains(KeyId))
        {
            why = $"{what} is signed with key {KeyId[..Math.Min(KeyId.Length, 32)]}, which is not among the trusted keys";
            return null;
        }
        if (!trusted.Verify(KeyId, bytes, signature))
        {
            why = $"{what}'s signature (key {KeyId}) does not verify";
            return null;
        }
        why = null;
        return bytes;
    }

    /// <summary>The statement's bytes without any check of the signature (agents without trusted keys that allow unsigned messages).</summary>
    public byte[]? Unchecked() => TryDecode(out var bytes, out _) ? bytes : null;

    private bool TryDecode(out byte[] bytes, out byte[] signature)
    {
        try
        {
            bytes = Convert.FromBase64String(Statement ?? "");
            signature = Convert.FromBase64String(Signature ?? "");
            return bytes.Length > 0;
        }
        catch (FormatException)
        {
            bytes = signature = [];
            return false;
        }
    }
}
