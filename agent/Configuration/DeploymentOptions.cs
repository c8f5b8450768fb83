namespace EdgePatchCore.Agent.Configuration;

/// <summary>Over-the-air deployment (`trainer deploy`). On only with trusted keys, or with <see cref="AllowUnsigned"/>.</summary>
public sealed class DeploymentOptions
{
    /// <summary>Accept unsigned models over the air when no TrustedKeys are set. Lab use only: anyone who can publish to the broker can then replace
    /// the model.</summary>
    public bool AllowUnsigned { get; set; }
    /// <summary>Largest artifact a deploy may announce (bytes).</summary>
    public long MaxArtifactBytes { get; set; } = 1L << 30;
    /// <summary>A transfer that has not moved for this long is deleted with its chunks.</summary>
    public double TransferExpiryMinutes { get; set; } = 60;
}
