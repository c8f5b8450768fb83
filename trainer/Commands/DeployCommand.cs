using Microsoft.Extensions.Logging;
using EdgePatchCore.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Deployment;
using EdgePatchCore.Messaging;
using EdgePatchCore.Trainer.Cli;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgePatchCore.Trainer.Commands;

public sealed class DeployCommand : ICommand
{
    public string Name => "deploy";
    public string Summary => "send an artifact to an agent over MQTT and wait until it serves it (or roll back)";
    public string Usage => "P.pcb --broker HOST[:PORT] --device ID [--slot NAME] [options]   |   --rollback --sign KEY.pem --to-version N --broker " +
        "HOST[:PORT] --device ID";
    public string Description =>
        "Sends the artifact in chunks (each with its SHA-256, plus the whole file's) to the agent of device ID on\n" +
        "{prefix}/deploy/request. The agent verifies the hash, the signature and its release statement (a trusted key,\n" +
        "this product, not expired, a version above the one it serves), builds and warms the model up, keeps the model\n" +
        "it served before, swaps the new one in and answers on {prefix}/deploy/status; this command waits for that answer.\n" +
        "The model goes to the slot of its product; to replace another product's model (a changeover), name that slot\n" +
        "with --slot. Sending the same file again resumes an interrupted transfer.\n" +
        "--rollback restores the model served before the last deployment; on an agent with trusted keys it must be signed\n" +
        "(--sign KEY.pem) and name the release version it goes back to (--to-version; trainer inspect shows a file's version).\n" +
        "Exit code 0 when deployed, 1 when refused or when the device does not answer in time.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. DeviceLink.Options,
        new("slot", "put the model in the slot of this product (or artifact file name) instead of its own product's", "NAME"),
        new("rollback", "restore the model the device served before the last deployment"),
        new("sign", "with --rollback: sign the rollback with this private key (trainer keygen)", "KEY.pem"),
        new("to-version", "with --rollback --sign: the release version the device goes back to", "N"),
        new("product", "with --rollback: the product whose model is rolled back", "P", "the device's only product"),
        new("timeout", "seconds to wait for the device's answer", "S", "180"),
        new("chunk-size", "chunk size in KiB (64..4096)", "N", "256"),
    ];

    public int Run(CommandLine args, CommandContext context) => RunAsync(args, context).GetAwaiter().GetResult();

    private async Task<int> RunAsync(CommandLine args, CommandContext context)
    {
        bool rollback = args.Has("rollback");
        if (rollback ? args.Positional.Count != 0 : args.Positional.Count != 1)
            throw new UsageException(rollback ? "--rollback takes no artifact" : "expected one artifact file");
        string prefix = DeviceLink.Prefix(args);
        var connect = DeviceLink.Prepare(args, "deploy");
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 1, 86400));
        int chunkSize = args.Int("chunk-size", DeployProtocol.MinChunkBytes >> 10, DeployProtocol.MaxChunkBytes >> 10) << 10;
        if (!rollback && (args.Has("sign")
            || args.Has("to-version"))) throw new UsageException("--sign and --to-version go with --rollback (sign the artifact itself with " +
                "trainer sign)");
        if (rollback && args.Has("slot")) throw new UsageException("--slot goes with a deployment, not --rollback (use --product)");
        if (args.Get("slot") is { } slotName
            && !DeployProtocol.IsValidName(slotName)) throw new UsageException($"--slot '{slotName}' is not a valid slot name");
        using var rollbackKey = rollback && args.Get("sign") is { } keyPath ? SigningKeys.LoadPrivate(keyPath) : null;
        long? toVersion = null;
        if (rollback && args.Get("to-version") is { } versionText)
        {
            if (!long.TryParse(versionText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
                || v < 1)
                throw new UsageException($"--to-version must be a positive whole number, not '{versionText}'");
            toVersion = v;
        }
        if (rollbackKey is not null
            && toVersion is null) throw new UsageException("a signed rollback names the release it goes back to: --to-version N");
        byte[] bytes = [];
        Artifact? artifact = null;
        if (!rollback)
        {
            string path = args.Positional[0];
            bytes = EdgePatchCore.FileSystem.RegularFile.Read(path, ArtifactFile.MaxBytes);
            artifact = ArtifactFile.Read(bytes, path); // refuse to send a damaged file
            context.Out.WriteLine($"{path}: model {artifact.Id} for {artifact.Content.Manifest.Product}, {bytes.Length / 1e6:F1} MB, " +
                                  (artifact.Signature is { } s ? $"signed with key {s.KeyId}" : "unsigned") +
                                  (artifact.Release is { } r ? $", release {r.Version}" : ""));
        }

        using var client = await DeployClient.ConnectAsync(connect, prefix, timeout, context.Cancel);
        int result;
        if (rollback)
        {
            string? product = args.Get("product");
            if (rollbackKey is not null && product is null)
                product = await client.ServedProductAsync(context.Cancel)
                          ?? throw new UsageException($"{prefix} serves several products (or none) or published no status: name the product with " +
                              $"--product");
            RollbackAuthorization? authorization = rollbackKey is null ? null
                : RollbackAuthorization.Sign(RollbackStatement.Create(prefix, product!, toVersion!.Value, DateTime.UtcNow), rollbackKey);
            var status = await client.RollbackAsync(product, authorization, context.Cancel);
            context.Out.WriteLine($"rolled back: model {status.Model} is serving again on {prefix}"
                + (status.ReleaseVersion is { } v ? $" (release {v})" : ""));
            result = TrainerApp.ExitOk;
        }
        else
        {
            var status = await client.SendAsync(args.Positional[0], bytes, artifact!, chunkSize, args.Get("slot"), context.Out.WriteLine,
                context.CreateProgress(), context.Cancel);
            context.Out.WriteLine($"deployed: model {status.Model} is serving on {prefix}"
                + (status.ReleaseVersion is { } v ? $" (release {v})" : ""));
            result = TrainerApp.ExitOk;
        }
        await client.DisconnectAsync();
        return result;
    }
}
