using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using EdgePatchCore.Agent;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using MQTTnet;
using EdgePatchCore.Agent.Web;
using MQTTnet.Server;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Demo;

/// <summary>
/// The demo (`demo`, run by demo.sh): the whole edge chain on one machine without installing anything. Starts MQTTnet's
/// broker in-process on a free loopback port, runs the real agent host with a folder source, copies
/// the given images into that folder as a camera would, and prints every verdict a SCADA-side
/// subscriber receives.
/// </summary>
public static class DemoRunner
{
    /// <summary>Runs the demo with checked options; returns the exit code (0: every frame got its verdict).</summary>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter output)
    {
        var (artifact, frames, limit, repeat, rate, hold) = (options.Artifact, options.Frames, options.Limit, options.Repeat, options.Rate,
            options.Hold);
        if (!File.Exists(artifact)) throw new UsageException($"artifact {artifact} does not exist");
        if (!Directory.Exists(frames)) throw new UsageException($"frames folder {frames} does not exist");
        string web = options.Web;
        if (web is "off" or "") web = "";
        else if (!Uri.TryCreate(web, UriKind.Absolute, out var page) || page.Scheme != "http" || !page.IsLoopback)
            throw new UsageException("--web must be an http://127.0.0.1:PORT address (or off): the demo's page stays on this machine");
        else if (web == DefaultPage && !PortIsFree(8080)) web = "http://127.0.0.1:0"; // another program has 8080: any free port
        var sources = Directory.EnumerateFiles(frames, "*", SearchOption.AllDirectories)
            .Where(ImageLoader.HasImageExtension).Order(StringComparer.Ordinal).Take(limit).ToList();
        if (sources.Count == 0) throw new UsageException($"no images in {frames}");
        // (frame name, source file): a unique, camera-like name per drop; --repeat cycles through the images (soak runs).
        var images = Enumerable.Range(0, repeat).SelectMany(k => sources.Select(path =>
            ((repeat > 1 ? $"r{k:D3}_" : "") + Path.GetRelativePath(frames, path).Replace(Path.DirectorySeparatorChar, '_'), path))).ToList();
        bool quiet = images.Count > 200;
        var rss = new List<(int Verdicts, long Bytes, long Managed)>();

        string work = Path.Combine(Path.GetTempPath(), "edgepatchcore-demo-" + Guid.NewGuid().ToString("N")[..8]);
        string inbox = Path.Combine(work, "inbox");
        Directory.CreateDirectory(inbox);
        int port = FreePort();
        using var server = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder()
            .WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(IPAddress.Loopback).WithDefaultEndpointPort(port).Build());
        await server.StartAsync();
        output.WriteLine($"demo: MQTT broker (in-process) on 127.0.0.1:{port}; watched folder {inbox}");

        var verdicts = new List<Verdict>();
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var scada = new MqttClientFactory().CreateMqttClient();
        scada.ApplicationMessageReceivedAsync += e =>
        {
            var v = Verdict.FromJson(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
            if (v is null) return Task.CompletedTask;
            lock (verdicts)
            {
                verdicts.Add(v);
                if (verdicts.Count % Math.Max(1, images.Count / 10) == 0) rss.Add((verdicts.Count, Environment.WorkingSet, GC.GetTotalMemory(false)));
                if (verdicts.Count >= images.Count) allIn.TrySetResult();
                if (quiet) return Task.CompletedTask;
                string detail = v.Result == Verdict.Error ? v.ErrorText ?? ""
                    : $"score {v.Score:F3} / threshold {v.Threshold:F3}" + (v.Region is { } r ? $"  region {r.X},{r.Y} {r.Width}x{r.Height}" : "");
                output.WriteLine($"  verdict {v.FrameId,-30} {v.Result,-7} {detail}  (decode {v.LatencyMs.Decode:F0} ms, infer " +
                    $"{v.LatencyMs.Infer:F0} ms, total {v.LatencyMs.Total:F0} ms)");
            }
            return Task.CompletedTask;
        };
        await scada.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("demo-scada").Build());
        await scada.SubscribeAsync("edgepatchcore/demo/verdict", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);

        var overrides = new Dictionary<string, string?>
        {
            ["Agent:Artifact"] = Path.GetFullPath(artifact),
            ["Agent:DeviceId"] = "demo",
            ["Agent:StateDirectory"] = Path.Combine(work, "state"),
            ["Agent:Broker:Host"] = "127.0.0.1",
            ["Agent:Broker:Port"] = port.ToString(),
            ["Agent:Sources:Folder:Path"] = inbox,
            ["Agent:Sources:Folder:SettleMilliseconds"] = "100",
            ["Agent:Publishing:OutboxSync"] = "false",
            ["Agent:Web:Urls"] = web,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            ["Logging:LogLevel:EdgePatchCore.Agent.ModelStore"] = "Information",
        };
        using var host = AgentHost.CreateBuilder([], configFile: null, overrides).Build();
        var clock = Stopwatch.StartNew();
        try
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<ArtifactWatcher>().InitialLoad;
            if (web.Length > 0
                && await host.Services.GetRequiredService<LivePageServer>().Listening.WaitAsync(TimeSpan.FromSeconds(30)) is [var address, ..])
                output.WriteLine($"demo: live page {address}/ (open it in a browser{(hold ? "" : "; --hold keeps it open after the last frame")})");
            output.WriteLine($"demo: agent running; dropping {images.Count} frame(s) from {frames} into the folder" +
                             (rate > 0 ? $" at {rate:G3} per second" : "") + (quiet ? " (verdicts not printed one by one)" : ""));
            clock.Restart();
            for (int i = 0; i < images.Count; i++)
            {
                if (rate > 0) await Task.Delay(TimeSpan.FromSeconds(i / rate) - clock.Elapsed is { Ticks: > 0 } wait ? wait : TimeSpan.Zero);
                var (name, image) = images[i];
                // Copied under a temporary name and renamed, as a careful FTP client does.
                File.Copy(image, Path.Combine(inbox, name + ".part"));
                File.Move(Path.Combine(inbox, name + ".part"), Path.Combine(inbox, name));
            }
            var finished = await Task.WhenAny(allIn.Task, Task.Delay(TimeSpan.FromMinutes(10)));
            double seconds = clock.Elapsed.TotalSeconds;
            lock (verdicts)
            {
                int ok = verdicts.Count(v => v.Result == Verdict.Ok), defect = verdicts.Count(v => v.Result == Verdict.Defect),
                    errors = verdicts.Count(v => v.Result == Verdict.Error);
                output.WriteLine($"demo: {verdicts.Count} verdict(s) received over MQTT: {ok} ok, {defect} defect, {errors} error, in {seconds:F1} " +
                    $"s ({verdicts.Count / seconds:F2} frames/s)");
                if (verdicts.Count > 0)
                {
                    static double P(List<double> values, double q) => EdgePatchCore.Statistics.Percentile.Of(values, q);
                    var total = verdicts.Select(v => v.LatencyMs.Total).ToList();
                    var processing = verdicts.Select(v => v.LatencyMs.Decode + v.LatencyMs.Infer).ToList();
                    output.WriteLine($"demo: latency from file to verdict p50 {P(total, 0.5):F0} ms, p95 {P(total, 0.95):F0} ms; decode + " +
                        $"inference p50 {P(processing, 0.5):F0} ms, p95 {P(processing, 0.95):F0} ms");
                    output.WriteLine("demo: resident memory (managed heap) after N verdicts: " + string.Join(", ",
                        rss.Select(r => $"{r.Verdicts}: {r.Bytes / (1 << 20)} ({r.Managed / (1 << 20)}) MiB")));
                }
                var byName = verdicts.ToDictionary(v => v.FrameId, v => v.Result);
                int good = 0, goodOk = 0, bad = 0, badFound = 0;
                foreach (var (name, _) in images)
                {
                    bool isGood = name.StartsWith("good_", StringComparison.Ordinal) || name.Contains("_good_", StringComparison.Ordinal);
                    if (!byName.TryGetValue(name, out var result)) continue;
                    if (isGood) { good++; if (result == Verdict.Ok) goodOk++; }
                    else { bad++; if (result == Verdict.Defect) badFound++; }
                }
                if (good > 0 && bad > 0)
                    output.WriteLine($"demo: good frames passed {goodOk}/{good}, defective frames caught {badFound}/{bad} (at the artifact's " +
                        $"calibrated threshold)");
                if (finished != allIn.Task)
                {
                    output.WriteLine($"demo: timed out waiting for {images.Count - verdicts.Count} verdict(s)");
                    return DemoProgram.ExitFailure;
                }
            }
            if (hold && web.Length > 0) await HoldAsync(output);
            return DemoProgram.ExitOk;
        }
        finally
        {
            await host.StopAsync();
            await server.StopAsync();
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    public const string DefaultPage = "http://127.0.0.1:8080";

    /// <summary>Keeps the agent and its page up until Ctrl-C or SIGTERM.</summary>
    private static async Task HoldAsync(TextWriter output)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT,
            c => { c.Cancel = true; stop.TrySetResult(); });
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            c => { c.Cancel = true; stop.TrySetResult(); });
        output.WriteLine("demo: all frames scored; the agent and its live page stay up until Ctrl-C");
        await stop.Task;
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
