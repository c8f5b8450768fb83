using EdgePatchCore.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Deployment;
using EdgePatchCore.Trainer.Cli;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgePatchCore.Trainer.Commands;

/// <summary>`trainer collect`: downloads an agent's teach set (the frames operators marked good) for `trainer extend`.</summary>
public sealed class CollectCommand : ICommand
{
    public string Name => "collect";
    public string Summary => "download the frames operators taught an agent, for trainer extend";
    public string Usage => "--broker HOST[:PORT] --device ID --out DIR [--since TIME] [--clear] [options]";
    public string Description =>
        "Asks the agent of device ID for its teach set on {prefix}/teach/collect and downloads every taught frame into\n" +
        "DIR/good/, in chunks each checked against its SHA-256, then the whole file against the list; DIR/manifest.json\n" +
        "lists the frames with the verdicts they got and who taught them. Files already in DIR/good/ with the right hash\n" +
        "are kept, and a file interrupted half-way resumes from its last complete chunk, so running it again continues.\n" +
        "--clear then removes the collected frames from the device (its teach set holds Agent:Teach:MaxTaught frames).\n" +
        "Then: trainer extend P.pcb --add DIR.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. DeviceLink.Options,
        new("out", "the folder to collect into (DIR/good/ and DIR/manifest.json)", "DIR"),
        new("since", "only frames taught at or after this time (ISO 8601, e.g. 2026-11-30T06:00Z)", "TIME", "all"),
        new("timeout", "seconds to wait for each answer of the device", "S", "60"),
        new("chunk-size", "chunk size in KiB (4..4096)", "N", "256"),
        new("clear", "once every frame is here and checked, remove them from the device's teach set (it holds Agent:Teach:MaxTaught)"),
    ];

    public int Run(CommandLine args, CommandContext context) => RunAsync(args, context).GetAwaiter().GetResult();

    private sealed record Received(string? Type, string? File, int Index, int Count, string? Sha256, byte[] Payload);

    private async Task<int> RunAsync(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count > 0) throw new UsageException($"unexpected argument '{args.Positional[0]}'");
        string prefix = DeviceLink.Prefix(args);
        string output = args.Require("out");
        DateTimeOffset? since = args.Get("since") is { } sinceText
            ? DateTimeOffset.TryParse(sinceText, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t
              : throw new UsageException($"--since '{sinceText}' is not a time (ISO 8601, e.g. 2026-11-30T06:00Z)")
            : null;
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 1, 86400));
        int chunkSize = args.Int("chunk-size", CollectProtocol.MinChunkBytes >> 10, CollectProtocol.MaxChunkBytes >> 10) << 10;
        var connect = DeviceLink.Prepare(args, "collect");
        string good = Path.Combine(output, "good");
        Directory.CreateDirectory(good);

        string collectId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var received = Channel.CreateUnbounded<Received>();
        using var client = await connect(e =>
        {
            var m = e.ApplicationMessage;
            string? Property(string name) => m.UserProperties?.FirstOrDefault(p => p.Name == name)?.ReadValueAsString();
            int Number(string name) => int.TryParse(Property(name), out int v) ? v : -1;
            received.Writer.TryWrite(new Received(Property(DeployProtocol.TypeProperty), Property(CollectProtocol.FileProperty), Number(DeployProtocol.IndexProperty),
                                                  Number("count"), Property(DeployProtocol.HashProperty), System.Buffers.BuffersExtensions.ToArray(m.Payload)));
            return Task.CompletedTask;
        }, context.Cancel);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(CollectProtocol.AnswerTopic(prefix, collectId), MqttQualityOfServiceLevel.AtLeastOnce).Build(), context.Cancel);

        async Task Ask(CollectRequest request) =>
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(CollectProtocol.RequestTopic(prefix))
                .WithPayload(JsonSerializer.SerializeToUtf8Bytes(request, DeployProtocol.Json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), context.Cancel);
        async Task<Received> Next(string waitingFor)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.Cancel);
            wait.CancelAfter(timeout);
            try { return await received.Reader.ReadAsync(wait.Token); }
            catch (OperationCanceledException) when (!context.Cancel.IsCancellationRequested)
            {
                throw new DeployException($"no answer from {prefix} in {timeout.TotalSeconds:F0} s while waiting for {waitingFor} (is the agent running and connected?)");
            }
        }

        // 1. The list.
        await Ask(new CollectRequest(CollectProtocol.List, collectId, since));
        CollectAnswer? list = null;
        while (list is null)
        {
            var answer = await Next("the teach set's list");
            if (answer.Type is not null) continue; // a chunk of an earlier request
            list = JsonSerializer.Deserialize<CollectAnswer>(answer.Payload, DeployProtocol.Json);
        }
        if (list.Type == CollectProtocol.Error) throw new DeployException($"{prefix}: {list.Message}");
        if (list.Entries.Count == 0)
            throw new DeployException($"the teach set of {prefix} is empty{(since is null ? "" : $" since {since:O}")}: nothing was taught (publish {{\"frameIds\": [...], \"label\": \"good\"}} on {prefix}/teach)");
        context.Out.WriteLine($"{prefix} ({list.DeviceId}): {list.Entries.Count} taught frame(s)");

        // 2. Every file: kept when already here, resumed from its last full chunk, else fetched.
        int fetched = 0, kept = 0, resumed = 0;
        foreach (var entry in list.Entries)
        {
            string name = Path.GetFileName(entry.File);
            if (name.Length == 0 || name != entry.File[(entry.File.LastIndexOf('/') + 1)..] || name.StartsWith('.'))
                throw new DeployException($"{prefix} listed a file name this collector will not write: '{entry.File}'");
            string target = Path.Combine(good, name), part = Path.Combine(good, "." + name + ".part");
            if (File.Exists(target) && DeployProtocol.Hex(SHA256.HashData(File.ReadAllBytes(target))) == entry.Sha256) { kept++; continue; }
            int from = 0;
            if (File.Exists(part))
            {
                from = (int)(new FileInfo(part).Length / chunkSize);
                using (var trim = File.OpenWrite(part)) trim.SetLength((long)from * chunkSize); // drop a torn last chunk
                if (from > 0) resumed++;
            }
            else File.WriteAllBytes(part, []);
            int count = (int)DeployProtocol.ChunkCountFor(entry.Size, chunkSize);
            if (from < count)
            {
                await Ask(new CollectRequest(CollectProtocol.Get, collectId, File: entry.File, From: from, ChunkSize: chunkSize));
                using var stream = new FileStream(part, FileMode.Append, FileAccess.Write);
                for (int index = from; index < count;)
                {
                    var chunk = await Next($"chunk {index} of {entry.File}");
                    if (chunk.Type is null && JsonSerializer.Deserialize<CollectAnswer>(chunk.Payload, DeployProtocol.Json) is { Type: CollectProtocol.Error } refused)
                        throw new DeployException($"{prefix}: {refused.Message}");
                    if (chunk.Type != CollectProtocol.Chunk || chunk.File != entry.File || chunk.Index != index) continue; // another file's or a repeated chunk
                    if (chunk.Count != count || DeployProtocol.Hex(SHA256.HashData(chunk.Payload)) != chunk.Sha256)
                        throw new DeployException($"chunk {index} of {entry.File} arrived damaged (hash or count mismatch); run collect again to resume");
                    stream.Write(chunk.Payload);
                    index++;
                }
            }
            if (DeployProtocol.Hex(SHA256.HashData(File.ReadAllBytes(part))) != entry.Sha256)
            {
                File.Delete(part);
                throw new DeployException($"{entry.File}: the whole file's SHA-256 does not match the list; it was deleted, run collect again");
            }
            File.Move(part, target, overwrite: true);
            fetched++;
            context.Out.WriteLine($"  {entry.FrameId} -> good/{name} ({entry.Size / 1024.0:F0} KiB; {entry.Verdict} {entry.Score:G4}, taught by {entry.By ?? "?"})");
        }

        // 3. The manifest: what each frame is, what the model said, who taught it.
        EdgePatchCore.FileSystem.DurableFile.Write(Path.Combine(output, "manifest.json"),
            JsonSerializer.SerializeToUtf8Bytes(new { device = list.DeviceId, prefix, collectedAt = DateTimeOffset.UtcNow, frames = list.Entries },
                                                new JsonSerializerOptions(DeployProtocol.Json) { WriteIndented = true }), sync: true);
        context.Out.WriteLine($"collected {list.Entries.Count} frame(s) into {good}: {fetched} fetched ({resumed} resumed), {kept} already here; " +
                              $"next: trainer extend P.pcb --add {output}");
        if (args.Has("clear"))
        {
            // Only now, with every file here and checked: the device forgets exactly these frames.
            await Ask(new CollectRequest(CollectProtocol.Clear, collectId, Files: list.Entries.Select(e => e.File).ToList()));
            while (true)
            {
                var answer = await Next("the device to clear its teach set");
                if (answer.Type is not null) continue;
                var cleared = JsonSerializer.Deserialize<CollectAnswer>(answer.Payload, DeployProtocol.Json);
                if (cleared?.Type != CollectProtocol.Cleared) continue;
                context.Out.WriteLine($"{prefix}: {cleared.Message}");
                break;
            }
        }
        return TrainerApp.ExitOk;
    }
}
