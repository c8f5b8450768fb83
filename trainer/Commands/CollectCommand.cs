using EdgePatchCore.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Artifacts;
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
    public string Usage => "--broker HOST[:PORT] --device ID --sign KEY.pem --out DIR [--since TIME] [--clear] [options]   |   --revert [--product " +
        "P] ...";
    public string Description =>
        "Asks the agent of device ID for its teach set on {prefix}/teach/collect and downloads every taught frame into\n" +
        "DIR/good/, in chunks each checked against its SHA-256, then the whole file against the list; DIR/manifest.json\n" +
        "lists the frames with the verdicts they got and who taught them. Files already in DIR/good/ with the right hash\n" +
        "are kept, and a file interrupted half-way resumes from its last complete chunk, so running it again continues.\n" +
        "--clear then removes the collected frames from the device (its teach set holds Agent:Teach:MaxTaught frames).\n" +
        "Every request is signed with the plant key (--sign KEY.pem; the agent takes it only under one of its\n" +
        "Agent:TrustedKeys) and valid for 5 minutes, once; answers count only from the device asked, for the request asked.\n" +
        "--revert makes the device serve its signed model again instead of one it derived by teaching (Agent:Teach:OnDevice).\n" +
        "Then: trainer extend P.pcb --add DIR.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. DeviceLink.Options,
        new("out", "the folder to collect into (DIR/good/ and DIR/manifest.json)", "DIR"),
        new("since", "only frames taught at or after this time (ISO 8601, e.g. 2026-11-30T06:00Z)", "TIME", "all"),
        new("timeout", "seconds to wait for each answer of the device", "S", "60"),
        new("chunk-size", "chunk size in KiB (4..4096)", "N", "256"),
        new("clear", "once every frame is here and checked, remove them from the device's teach set (it holds Agent:Teach:MaxTaught)"),
        new("sign", "sign the requests with this private key (trainer keygen); agents with trusted keys take nothing else", "KEY.pem"),
        new("revert", "instead of collecting: serve the signed model again where the device serves one derived by teaching"),
        new("product", "with --revert: only this product's model", "P", "all"),
    ];

    public int Run(CommandLine args, CommandContext context) => RunAsync(args, context).GetAwaiter().GetResult();

    private async Task<int> RunAsync(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count > 0) throw new UsageException($"unexpected argument '{args.Positional[0]}'");
        string prefix = DeviceLink.Prefix(args);
        using var key = args.Get("sign") is { } keyPath ? SigningKeys.LoadPrivate(keyPath) : null;
        if (args.Has("revert")) return await RevertAsync(args, context, prefix, key);
        if (args.Has("product")) throw new UsageException("--product goes with --revert");
        string output = args.Require("out");
        DateTimeOffset? since = args.Get("since") is { } sinceText
            ? DateTimeOffset.TryParse(sinceText, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t
              : throw new UsageException($"--since '{sinceText}' is not a time (ISO 8601, e.g. 2026-11-30T06:00Z)")
            : null;
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 1, 86400));
        int chunkSize = args.Int("chunk-size", CollectProtocol.MinChunkBytes >> 10, CollectProtocol.MaxChunkBytes >> 10) << 10;
        var connect = DeviceLink.Prepare(args, "collect");
        string good = Path.Combine(output, "good");
        Directory.CreateDirectory(good);

        using var client = await CollectClient.ConnectAsync(connect, prefix, args.Get("device"), key, timeout, context.Cancel);

        // 1. The list.
        var list = await client.ListAsync(since, context.Cancel);
        if (list.Entries.Count == 0)
            throw new DeployException($"the teach set of {prefix} is empty{(since is null ? "" : $" since {since:O}")}: nothing was taught " +
                $"(publish {{\"frameIds\": [...], \"label\": \"good\"}} on {prefix}/teach)");
        context.Out.WriteLine($"{prefix} ({list.DeviceId}): {list.Entries.Count} taught frame(s)");

        // 2. Every file: kept when already here, resumed from its last full chunk, else fetched.
        int fetched = 0, kept = 0, resumed = 0;
        foreach (var entry in list.Entries)
        {
            var result = await client.FetchAsync(entry, good, chunkSize, context.Cancel);
            if (result == CollectClient.Fetch.Kept) { kept++; continue; }
            fetched++;
            if (result == CollectClient.Fetch.Resumed) resumed++;
            context.Out.WriteLine($"  {entry.FrameId} -> good/{Path.GetFileName(entry.File)} ({entry.Size / 1024.0:F0} KiB; {entry.Verdict} " +
                $"{entry.Score:G4}, taught by {entry.By ?? "?"}{(entry.Operator is { } who ? $" ({who})" : "")})");
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
            context.Out.WriteLine($"{prefix}: {await client.ClearAsync(list.Entries.Select(e => e.File).ToList(), context.Cancel)}");
        }
        if (client.Ignored > 0) context.Out.WriteLine($"ignored {client.Ignored} message(s) on the answer topic that did not answer these requests");
        await client.DisconnectAsync();
        return TrainerApp.ExitOk;
    }

    private static async Task<int> RevertAsync(CommandLine args, CommandContext context, string prefix, System.Security.Cryptography.ECDsa? key)
    {
        foreach (var option in new[] { "out", "since", "clear", "chunk-size" })
            if (args.Has(option)) throw new UsageException($"--{option} does not go with --revert");
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 1, 86400));
        var connect = DeviceLink.Prepare(args, "collect");
        using var client = await CollectClient.ConnectAsync(connect, prefix, args.Get("device"), key, timeout, context.Cancel);
        context.Out.WriteLine($"{prefix}: {await client.RevertAsync(args.Get("product"), context.Cancel)}");
        await client.DisconnectAsync();
        return TrainerApp.ExitOk;
    }
}
