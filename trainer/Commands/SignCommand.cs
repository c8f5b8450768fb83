using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class SignCommand : ICommand
{
    public string Name => "sign";
    public string Summary => "sign an artifact (or re-sign it with another key)";
    public string Usage => "P.pcb --key KEY.pem [--release-version N] [--expires-in DAYS]";
    public string Description =>
        "Verifies the artifact's checksum and signs a release statement: the payload's SHA-256, the product, a release\n" +
        "version and an expiry time. Agents with the public key accept the model only for that product, only until it\n" +
        "expires, and never after a higher version of the same product. Signing again (even an old model) gives a new,\n" +
        "higher version. The file is rewritten atomically; the model itself is untouched, so its id stays the same.";
    public IReadOnlyList<OptionSpec> Options { get; } =
        [new("key", "private key (trainer keygen)", "KEY.pem"), CommonOptions.ReleaseVersion, CommonOptions.ExpiresIn];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count != 1) throw new UsageException("expected one artifact file");
        using var key = SigningKeys.LoadPrivate(args.Require("key"));
        var artifact = ArtifactFile.Sign(args.Positional[0], key, CommonOptions.ParseRelease(args));
        var release = artifact.Release!;
        context.Out.WriteLine($"signed {args.Positional[0]} (id {artifact.Id}) with key {artifact.Signature!.KeyId}: " +
                              $"release {release.Version} of {release.Product}, expires {release.ExpiresAtUtc:yyyy-MM-dd HH:mm} UTC");
        return TrainerApp.ExitOk;
    }
}
