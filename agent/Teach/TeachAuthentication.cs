using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Trust;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// Decides whether a {prefix}/teach message comes from the line's SCADA: its HMAC-SHA256 under the line's secret
/// (Agent:Teach:SecretFile, or systemd's credential teach-secret) verifies, it names this device, it was issued
/// within Agent:Teach:MaxAgeSeconds of now (either way, for clocks that differ a little), and its nonce was never
/// used. The authenticated identity (<see cref="TeachOptions.SecretId"/>) is who taught, whatever the body says.
/// </summary>
public sealed class TeachAuthentication(TeachOptions options, string deviceId, NonceLedger nonces)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { MaxDepth = 4 };
    private readonly byte[] _secret = options.ReadSecret();

    /// <summary>False when no secret is configured: every teach message is then refused.</summary>
    public bool Enabled => _secret.Length > 0;
    public string Identity => options.SecretId;

    /// <summary>The request when the message is authentic, fresh and new; else null and <paramref name="error"/> says why.</summary>
    public TeachRequest? Open(byte[] payload, out string? error)
    {
        TeachEnvelope? envelope;
        try { envelope = JsonSerializer.Deserialize<TeachEnvelope>(payload, Json); }
        catch (JsonException e) { error = $"not a teach message: {e.Message}"; return null; }
        if (!Enabled)
        {
            error = "teaching is off on this device: no line secret is configured (Agent:Teach:SecretFile, docs/TEACH.md)";
            return null;
        }
        if (envelope?.Body is not { } body || envelope.Hmac is not { } hmac)
        {
            error = "the teach message is not authenticated: send {\"body\": \"...\", \"keyId\": \"...\", \"hmac\": \"...\"} (docs/TEACH.md)";
            return null;
        }
        if (envelope.KeyId != options.SecretId)
        {
            error = $"the teach message names key '{Messages.Text.Cap(envelope.KeyId, 64)}', which this device does not have";
            return null;
        }
        byte[] expected = HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(body));
        byte[] offered;
        try { offered = Convert.FromHexString(hmac); }
        catch (FormatException) { offered = []; }
        if (!CryptographicOperations.FixedTimeEquals(expected, offered))
        {
            error = "the teach message's HMAC does not verify (wrong secret, or the body was changed)";
            return null;
        }
        TeachRequest? request;
        try { request = JsonSerializer.Deserialize<TeachRequest>(body, Json); }
        catch (JsonException e) { error = $"the teach message's body is not a teach request: {e.Message}"; return null; }
        var window = TimeSpan.FromSeconds(options.MaxAgeSeconds);
        var now = DateTimeOffset.UtcNow;
        if (request is null || request.Device != deviceId)
            error = $"the teach message is for device '{Messages.Text.Cap(request?.Device, 64)}', not '{deviceId}'";
        else if (request.IssuedAt is not { } issued || (issued - now).Duration() > window)
            error = $"the teach message was issued at {request.IssuedAt:O}, more than {window.TotalSeconds:F0} s from this device's clock ({now:O})";
        else if (request.Nonce is not { Length: >= 16 and <= 64 } nonce || !nonce.All(char.IsAsciiLetterOrDigit))
            error = "the teach message needs a nonce of 16 to 64 letters and digits";
        else error = nonces.TryUse("teach:" + nonce, issued + window);
        return error is null ? request : null;
    }

    /// <summary>What the SCADA side sends for <paramref name="request"/> (tests and examples; docs/TEACH.md has the Ignition script).</summary>
    public static byte[] Seal(TeachRequest request, string keyId, byte[] secret)
    {
        string body = JsonSerializer.Serialize(request, Json);
        string hmac = Convert.ToHexString(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(body))).ToLowerInvariant();
        return JsonSerializer.SerializeToUtf8Bytes(new TeachEnvelope(body, keyId, hmac), Json);
    }
}
