namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// A {prefix}/teach message as sent: <see cref="Body"/> is the <see cref="TeachRequest"/>'s JSON as a string (so the
/// bytes the HMAC covers are exactly the ones sent), <see cref="KeyId"/> names the line's secret and
/// <see cref="Hmac"/> is HMAC-SHA256(secret, UTF-8 bytes of Body) in hex.
/// </summary>
public sealed record TeachEnvelope(string? Body, string? KeyId, string? Hmac);
