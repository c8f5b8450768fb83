using EdgePatchCore.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class KeygenCommand : ICommand
{
    public string Name => "keygen";
    public string Summary => "create a key pair for signing artifacts";
    public string Usage => "--out KEY.pem";
    public string Description =>
        "Writes an ECDSA P-256 private key (PKCS#8 PEM, readable by its owner only: mode 0600) and the public key\n" +
        "next to it as KEY.pub.pem. Keep the private key on the workstation; give the public key to the agents\n" +
        "(Agent:TrustedKeys). Existing files are never overwritten.";
    public IReadOnlyList<OptionSpec> Options { get; } = [new("out", "private key file to create", "KEY.pem")];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count > 0) throw new UsageException($"unexpected argument '{args.Positional[0]}'");
        string output = args.Require("out");
        CommonOptions.CheckWritable(output);
        var (privatePath, publicPath, keyId) = SigningKeys.Generate(output);
        context.Out.WriteLine($"wrote private key {privatePath} (mode 0600) and public key {publicPath}; key id {keyId}");
        return TrainerApp.ExitOk;
    }
}

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
