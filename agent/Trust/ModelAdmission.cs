using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Artifacts;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Trust;

/// <summary>
/// Decides whether an artifact may be served in a slot (docs/SECURITY.md has the table). With trusted keys:
/// signed by one of them over a release statement that names this payload and product, for the slot's
/// product, not expired, and not older than the release this device already accepted for that product
/// (the <see cref="ReleaseLedger"/>). Unsigned files are accepted from disk only when RequireSignature is
/// explicitly off, and over the air only with Deployment:AllowUnsigned and no trusted keys.
/// </summary>
public sealed class ModelAdmission(IOptions<AgentOptions> options, ReleaseLedger ledger)
{
    private readonly AgentOptions _options = options.Value;
    private TrustedKeys? _trusted;

    public TrustedKeys Trusted => _trusted ??= new TrustedKeys(_options.TrustedKeys);
    public ReleaseLedger Ledger => ledger;

    /// <summary>Whether `trainer deploy` is accepted at all on this device.</summary>
    public bool DeploymentEnabled => Trusted.Count > 0 || _options.Deployment.AllowUnsigned;

    /// <summary>
    /// Null when <paramref name="artifact"/> may be served in the slot of <paramref name="slotProduct"/>
    /// (null: a slot that names no product); otherwise the reason for the refusal. <paramref name="verified"/>
    /// is the release statement when one of the trusted keys verified it (null for an unsigned or unverifiable model).
    /// </summary>
    public string? Check(Artifact artifact, string? slotProduct, ModelOrigin origin, out ReleaseStatement? verified)
    {
        verified = null;
        string product = artifact.Content.Manifest.Product;
        if (slotProduct is not null && !string.Equals(slotProduct, product, StringComparison.Ordinal))
            return $"this slot serves product '{slotProduct}' (Agent:Models:N:Product) but the model is for '{product}'";
        // Extended on this device from the model it serves, with frames its operators taught (docs/TEACH.md): unsigned
        // by nature, so accepted only when on-device teaching is on, and under RequireSignature only when allowed explicitly.
        if (origin == ModelOrigin.DerivedOnDevice)
            return !_options.Teach.OnDevice ? "models derived on the device are off (Agent:Teach:OnDevice)"
                : _options.SignatureRequired
                    && !_options.Teach.AllowUnsignedDerived ? "this device requires signed models; Agent:Teach:AllowUnsignedDerived is off"
                : null;
        if (Trusted.Count == 0)
        {
            if (origin != ModelOrigin.File && !_options.Deployment.AllowUnsigned)
                return "over-the-air deployment is off on this device: it has no Agent:TrustedKeys";
            return null; // nothing to verify against: the operator chose to trust the files on this device
        }
        if (artifact.Signature is null && origin == ModelOrigin.File && _options.RequireSignature == false) return null;
        if (Trusted.Check(artifact) is { } reason) return reason;
        verified = artifact.Release!;
        if (origin == ModelOrigin.AuthorisedRollback) return null; // the signed rollback named this version: the one way back
        return CheckVersion(verified, artifact.Hash);
    }

    /// <summary>The rollback protection and expiry rules for a verified release.</summary>
    public string? CheckVersion(ReleaseStatement release, byte[] payloadHash)
    {
        var entry = ledger.For(release.Product);
        if (OlderOrWithdrawn(entry, release.Product, release.Version) is { } refused) return refused;
        if (entry is not null && release.Version == entry.Version)
            return entry.PayloadSha256 == Convert.ToHexString(payloadHash).ToLowerInvariant()
                ? null // the release being served: accepted again after a restart, even once expired
                : $"release {release.Version} of {release.Product} was already accepted for a different model";
        if (release.IsExpired(DateTime.UtcNow))
            return $"release {release.Version} of {release.Product} expired on {release.ExpiresAtUtc:yyyy-MM-dd HH:mm} UTC; sign it again (trainer " +
                $"sign --expires-in DAYS)";
        return null;
    }

    /// <summary>
    /// What can be refused from a deploy's announcement alone (unsigned, or older than the accepted release),
    /// before the file travels. Only a hint: the signed statement is what counts, at commit.
    /// </summary>
    public string? EarlyRefusal(string product, long? version) => version is null
        ? "the model is not signed with a release statement; this device accepts only models signed by its trusted keys"
        : OlderOrWithdrawn(ledger.For(product), product, version.Value);

    private static string? OlderOrWithdrawn(ReleaseLedger.Entry? entry, string product, long version)
    {
        if (entry is null) return null;
        if (entry.Withdrawn.Contains(version))
            return $"release {version} of {product} was withdrawn by a rollback on this device; sign the model again to release it anew";
        if (version < entry.Version)
            return $"release {version} is older than release {entry.Version} already accepted for {product} " +
                   "(rollback protection: only an operator's signed rollback can go back: trainer deploy --rollback --sign KEY.pem --to-version N)";
        return null;
    }
}
