using System.Security.Cryptography;

namespace EdgePatchCore.Deployment;

/// <summary>
/// The operator's permission to take one device's model for one product back to one older release
/// version: the only way past the agent's rollback protection (versions only increase). It names the
/// device (its topic prefix), so it cannot be used on another line; it expires within minutes and carries a
/// nonce the agent remembers, so a recorded one cannot be replayed.
/// </summary>
public sealed record RollbackStatement(string Device, string Product, long ToVersion, DateTime IssuedAtUtc, DateTime ExpiresAtUtc, string Nonce)
{
    public const string SchemaName = "edgepatchcore.rollback/1";
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromMinutes(15);
    public string Schema { get; init; } = SchemaName;

    public static RollbackStatement Create(string device, string product, long toVersion, DateTime nowUtc, TimeSpan? validFor = null) =>
        new(device, product, toVersion, nowUtc, nowUtc + (validFor ?? DefaultValidity),
            Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant());
}
