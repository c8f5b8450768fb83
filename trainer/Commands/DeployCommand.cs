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

/// <summary>Raised when a deployment is refused by the device or gets no answer.</summary>
public sealed class DeployException(string message) : EdgePatchCore.Diagnostics.UserFacingException(message);

public sealed class DeployCommand : ICommand
{
    public string Name => "deploy";
    public string Summary => "send an artifact to an agent over MQTT and wait until it serves it (or roll back)";
    public string Usage => "P.pcb --broker HOST[:PORT] --device ID [--slot NAME] [options]   |   --rollback --sign KEY.pem --to-version N --broker HOST[:PORT] --device ID";
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
        var timeout = TimeSpan.FromSeconds(args.GetDouble("timeout", 180, 1, 86400));
        int chunkSize = args.GetInt("chunk-size", 256, DeployProtocol.MinChunkBytes >> 10, DeployProtocol.MaxChunkBytes >> 10) << 10;
        if (!rollback && (args.Has("sign") || args.Has("to-version"))) throw new UsageException("--sign and --to-version go with --rollback (sign the artifact itself with trainer sign)");
        if (rollback && args.Has("slot")) throw new UsageException("--slot goes with a deployment, not --rollback (use --product)");
        if (args.Get("slot") is { } slotName && !DeployProtocol.IsValidName(slotName)) throw new UsageException($"--slot '{slotName}' is not a valid slot name");
        using var rollbackKey = rollback && args.Get("sign") is { } keyPath ? SigningKeys.LoadPrivate(keyPath) : null;
        long? toVersion = null;
        if (rollback && args.Get("to-version") is { } versionText)
        {
            if (!long.TryParse(versionText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) || v < 1)
                throw new UsageException($"--to-version must be a positive whole number, not '{versionText}'");
            toVersion = v;
        }
        if (rollbackKey is not null && toVersion is null) throw new UsageException("a signed rollback names the release it goes back to: --to-version N");
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

        var answers = Channel.CreateUnbounded<DeployStatus>();
        using var client = await connect(e =>
        {
            try
            {
                if (JsonSerializer.Deserialize<DeployStatus>(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload), DeployProtocol.Json) is { } status)
                    answers.Writer.TryWrite(status);
            }
            catch (JsonException) { }
            return Task.CompletedTask;
        }, context.Cancel);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(DeployProtocol.StatusTopic(prefix), MqttQualityOfServiceLevel.AtLeastOnce).Build(), context.Cancel);

        int result;
        if (rollback)
        {
            string? product = args.Get("product");
            if (rollbackKey is not null && product is null) product = await ServedProductAsync(client, prefix, context.Cancel);
            RollbackAuthorization? authorization = rollbackKey is null ? null
                : RollbackAuthorization.Sign(RollbackStatement.Create(prefix, product!, toVersion!.Value, DateTime.UtcNow), rollbackKey);
            result = await RollbackAsync(client, prefix, product, authorization, answers.Reader, timeout, context);
        }
        else result = await SendAsync(client, prefix, args.Positional[0], bytes, artifact!, chunkSize, args.Get("slot"), answers.Reader, timeout, context);
        await client.DisconnectAsync(cancellationToken: CancellationToken.None);
        return result;
    }

    /// <summary>The product the device serves, from its retained status (for a rollback that names none).</summary>
    private static async Task<string> ServedProductAsync(IMqttClient client, string prefix, CancellationToken cancel)
    {
        var found = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task Handler(MqttApplicationMessageReceivedEventArgs e)
        {
            if (e.ApplicationMessage.Topic != prefix + "/status") return Task.CompletedTask;
            try
            {
                using var json = JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
                var models = json.RootElement.GetProperty("models");
                found.TrySetResult(models.GetArrayLength() == 1 ? models[0].GetProperty("product").GetString() : null);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException) { found.TrySetResult(null); }
            return Task.CompletedTask;
        }
        client.ApplicationMessageReceivedAsync += Handler;
        try
        {
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(prefix + "/status").Build(), cancel);
            var product = await found.Task.WaitAsync(TimeSpan.FromSeconds(5), cancel);
            return product ?? throw new UsageException($"{prefix} serves several products (or none): name one with --product");
        }
        catch (TimeoutException)
        {
            throw new UsageException($"{prefix} has published no status: name the product with --product");
        }
        finally
        {
            client.ApplicationMessageReceivedAsync -= Handler;
        }
    }

    private static async Task<int> SendAsync(IMqttClient client, string prefix, string path, byte[] bytes, Artifact artifact, int chunkSize, string? slot,
                                             ChannelReader<DeployStatus> answers, TimeSpan timeout, CommandContext context)
    {
        string sha = DeployProtocol.Hex(SHA256.HashData(bytes));
        var begin = new DeployBegin(DeployProtocol.TransferIdOf(sha), Path.GetFileName(path), bytes.Length, sha, chunkSize,
                                    (int)DeployProtocol.ChunkCountFor(bytes.Length, chunkSize), artifact.Content.Manifest.Product, slot, artifact.Release?.Version);
        var progress = context.CreateProgress();
        int rounds = 0, lastMissing = int.MaxValue;
        for (int round = 0; ; round++)
        {
            await PublishAsync(client, prefix, DeployProtocol.Begin, begin.TransferId, JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json), timeout, context.Cancel);
            var status = await AwaitAsync(answers, begin.TransferId, timeout, prefix, context.Cancel);
            if (status.State == DeployProtocol.Refused) throw new DeployException($"refused by the device: {status.Reason}");
            var missing = status.Missing ?? [];
            int missingCount = status.MissingCount ?? missing.Length;
            // Each round sends what the device lists (at most 1,024 chunks); give up only when rounds stop making progress.
            if (missingCount >= lastMissing && ++rounds >= 5) throw new DeployException("the device kept missing chunks after 5 rounds without progress");
            lastMissing = missingCount;
            if (round == 0 && missingCount < begin.ChunkCount)
                context.Out.WriteLine($"resuming: {begin.ChunkCount - missingCount} of {begin.ChunkCount} chunks are already on the device");
            context.Out.WriteLine($"sending {missing.Length} chunk(s) of {chunkSize >> 10} KiB" + (missingCount > missing.Length ? $" ({missingCount} missing in all)" : ""));
            for (int i = 0; i < missing.Length; i++)
            {
                int index = missing[i];
                var chunk = bytes.AsMemory((int)((long)index * chunkSize), begin.ChunkLength(index));
                var message = new MqttApplicationMessageBuilder().WithTopic(DeployProtocol.RequestTopic(prefix)).WithPayloadSegment(chunk)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithMessageExpiryInterval(Expiry(timeout))
                    .WithUserProperty(DeployProtocol.TypeProperty, Utf8(DeployProtocol.Chunk))
                    .WithUserProperty(DeployProtocol.TransferProperty, Utf8(begin.TransferId))
                    .WithUserProperty(DeployProtocol.IndexProperty, Utf8(index.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    .WithUserProperty(DeployProtocol.HashProperty, Utf8(DeployProtocol.Hex(SHA256.HashData(chunk.Span)))).Build();
                await client.PublishAsync(message, context.Cancel);
                progress.Report(new StageProgress("deploy", i + 1, missing.Length));
            }
            await PublishAsync(client, prefix, DeployProtocol.Commit, begin.TransferId, [], timeout, context.Cancel);
            context.Out.WriteLine("waiting for the device to verify and load the model");
            status = await AwaitAsync(answers, begin.TransferId, timeout, prefix, context.Cancel);
            switch (status.State)
            {
                case DeployProtocol.Deployed:
                    context.Out.WriteLine($"deployed: model {status.Model} is serving on {prefix}" + (status.ReleaseVersion is { } v ? $" (release {v})" : ""));
                    return TrainerApp.ExitOk;
                case DeployProtocol.Refused:
                    throw new DeployException($"refused by the device: {status.Reason}");
            }
            // Still missing chunks (lost on the way, or beyond the listed ones): another round sends just those.
        }
    }

    private static async Task<int> RollbackAsync(IMqttClient client, string prefix, string? product, RollbackAuthorization? authorization,
                                                 ChannelReader<DeployStatus> answers, TimeSpan timeout, CommandContext context)
    {
        var request = new DeployRollback(Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant(), product, authorization);
        await PublishAsync(client, prefix, DeployProtocol.Rollback, request.TransferId, JsonSerializer.SerializeToUtf8Bytes(request, DeployProtocol.Json), timeout, context.Cancel);
        var status = await AwaitAsync(answers, request.TransferId, timeout, prefix, context.Cancel);
        if (status.State != DeployProtocol.RolledBack) throw new DeployException($"rollback refused by the device: {status.Reason}");
        context.Out.WriteLine($"rolled back: model {status.Model} is serving again on {prefix}" + (status.ReleaseVersion is { } v ? $" (release {v})" : ""));
        return TrainerApp.ExitOk;
    }

    /// <summary>
    /// Requests expire with the wait: an agent that is offline now must not act on them hours later,
    /// when nobody is waiting for the answer (the broker keeps its session's messages until then).
    /// </summary>
    private static uint Expiry(TimeSpan timeout) => (uint)Math.Clamp(timeout.TotalSeconds, 1, uint.MaxValue);

    private static Task PublishAsync(IMqttClient client, string prefix, string type, string transfer, byte[] payload, TimeSpan timeout, CancellationToken cancel) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(DeployProtocol.RequestTopic(prefix)).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithMessageExpiryInterval(Expiry(timeout))
            .WithUserProperty(DeployProtocol.TypeProperty, Utf8(type))
            .WithUserProperty(DeployProtocol.TransferProperty, Utf8(transfer)).Build(), cancel);

    private static async Task<DeployStatus> AwaitAsync(ChannelReader<DeployStatus> answers, string transfer, TimeSpan timeout, string prefix, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var status = await answers.ReadAsync(limit.Token);
                if (status.TransferId == transfer) return status;
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new DeployException($"no answer from {prefix} within {timeout.TotalSeconds:F0} s: is the agent running and connected to this broker?");
        }
    }

    private static ReadOnlyMemory<byte> Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}
