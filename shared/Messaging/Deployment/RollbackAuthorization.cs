using System.Security.Cryptography;
using System.Text.Json;
using EdgePatchCore.Artifacts;

namespace EdgePatchCore.Deployment;

/// <summary>A <see cref="RollbackStatement"/> as sent: its exact JSON bytes (base64), the signing key's id and the signature over their
/// SHA-256.</summary>
public sealed record RollbackAuthorization(string Statement, string KeyId, string Signature)
{
    public static RollbackAuthorization Sign(RollbackStatement statement, ECDsa key)
    {
        var signed = SignedStatement.Sign(JsonSerializer.SerializeToUtf8Bytes(statement, DeployProtocol.Json), key);
        return new(signed.Statement!, signed.KeyId!, signed.Signature!);
    }

    /// <summary>The statement, when the signature verifies under one of <paramref name="trusted"/>; else null and why not.</summary>
    public RollbackStatement? Verify(TrustedKeys trusted, out string? why)
    {
        if (new SignedStatement(Statement, KeyId, Signature).Verify(trusted, "the rollback authorisation", out why) is not { } bytes) return null;
        try
        {
            var statement = JsonSerializer.Deserialize<RollbackStatement>(bytes, DeployProtocol.Json);
            if (statement is null || statement.Schema != RollbackStatement.SchemaName || statement.Device is null || statement.Product is null
                || statement.Nonce is not { Length: >= 16 and <= 64 })
            {
                why = "the rollback statement is malformed";
                return null;
            }
            return statement;
        }
        catch (JsonException)
        {
            why = "the rollback statement is malformed";
            return null;
        }
    }
}
