using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Deployment;

namespace EdgePatchCore.Agent.Teach;

/// <summary>Agent:Teach's own checks (registered by <see cref="TeachRegistration.AddTeach"/>): ranges, the secret, on-device teaching under
/// signatures.</summary>
public sealed class TeachOptionsValidation : OptionsChecks
{
    protected override void Check(AgentOptions o, Action<bool, string> check)
    {
        check(o.Teach.KeepFrames is >= 0 and <= 1_000_000, "Agent:Teach:KeepFrames must be 0..1000000");
        check(o.Teach.KeepBytes is >= 1 << 20 and <= 1L << 40, "Agent:Teach:KeepBytes must be 1 MiB..1 TiB");
        check(o.Teach.KeepRejects is >= 0 and <= 1_000_000, "Agent:Teach:KeepRejects must be 0..1000000");
        check(o.Teach.MaxTaught is >= 1 and <= 100_000, "Agent:Teach:MaxTaught must be 1..100000");
        check(!(o.Teach.OnDevice && o.SignatureRequired && !o.Teach.AllowUnsignedDerived),
              "Agent:Teach:OnDevice serves unsigned models derived on the device, which Agent:RequireSignature forbids; " +
              "set Agent:Teach:AllowUnsignedDerived=true to accept that (docs/TEACH.md)");
        check(o.Teach.MaxDerivedRows is >= 1 and <= 10_000_000, "Agent:Teach:MaxDerivedRows must be 1..10000000");
        check(o.Teach.MaxTaughtBytes is >= 1 << 20 and <= 1L << 40, "Agent:Teach:MaxTaughtBytes must be 1 MiB..1 TiB");
        check(o.Teach.MaxAgeSeconds is >= 10 and <= 86_400, "Agent:Teach:MaxAgeSeconds must be 10..86400");
        check(DeployProtocol.IsValidName(o.Teach.SecretId), "Agent:Teach:SecretId must be a short name without '/'");
        check(string.IsNullOrEmpty(o.Teach.SecretFile) || File.Exists(o.Teach.SecretFile),
            $"Agent:Teach:SecretFile {o.Teach.SecretFile} does not exist");
        try
        {
            check(o.Teach.ResolvedSecretFile.Length == 0 || o.Teach.ReadSecret().Length >= TeachOptions.MinSecretLength,
                  $"the teach secret ({o.Teach.ResolvedSecretFile}) must be at least {TeachOptions.MinSecretLength} characters");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { check(false, $"the teach secret cannot be read: {e.Message}"); }
        check(!o.Teach.OnDevice || o.Teach.KeepFrames > 0, "Agent:Teach:OnDevice needs kept frames (Agent:Teach:KeepFrames > 0)");
    }
}
