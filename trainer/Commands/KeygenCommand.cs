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
