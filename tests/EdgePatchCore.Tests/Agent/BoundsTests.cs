using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Sparkplug.Protocol;
using EdgePatchCore.Agent.Web;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// What anyone on the broker or the network can make the agent spend, against a real mosquitto and the agent host:
/// Sparkplug commands and STATE messages, page connections, and what the agent says about itself while the broker is away.
/// </summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class BoundsTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static byte[] NodeCommand(int metrics, string name = "Node Control/Rebirth", bool value = true)
    {
        var payload = new Payload { Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
        for (int i = 0; i < metrics; i++) payload.Metrics.Add(new Payload.Types.Metric { Name = name, Datatype = 11, BooleanValue = value });
        return payload.ToByteArray();
    }

    private static byte[] State(bool online, long timestamp) => JsonSerializer.SerializeToUtf8Bytes(new { online, timestamp });

    [Fact]
    public async Task Sparkplug_ignores_a_STATE_from_the_far_future_merges_rebirths_and_caps_names_in_its_logs()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("spb-bounds", work, settleMilliseconds: 100);
        config["Agent:Sparkplug:Enabled"] = "true";
        config["Agent:Sparkplug:GroupId"] = "plant9";
        config["Agent:Sparkplug:PrimaryHostId"] = "scada-host";
        var logs = new CapturedLogs();
        await using var probe = new MqttProbe(fixture.Broker.Port, "spBv1.0/plant9/#");
        await probe.StartAsync();
        int Count(string type) => probe.Messages("").Count(m => m.Topic.Split('/')[2] == type && m.Topic.EndsWith("/spb-bounds", StringComparison.Ordinal));
        string stateTopic = "spBv1.0/STATE/scada-host";
        await probe.PublishRetainedAsync(stateTopic, State(true, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        try
        {
            using var host = await AgentFixture.StartAgentAsync(config, logs);
            Assert.True(await probe.WaitForAsync(_ => Count("NBIRTH") == 1, Patience), "no NBIRTH");

            // A STATE stamped Int64.MaxValue ("offline") is ignored: the node stays online and a later, sane STATE still counts.
            await probe.PublishAsync(stateTopic, State(false, long.MaxValue));
            await Task.Delay(1500);
            Assert.Equal(0, Count("NDEATH"));
            Assert.True(host.Services.GetRequiredService<DropCounter>().Count("sparkplug-state") >= 1);

            // One NCMD carrying 5,000 rebirth requests is one rebirth.
            await probe.PublishAsync("spBv1.0/plant9/NCMD/spb-bounds", NodeCommand(5000));
            Assert.True(await probe.WaitForAsync(_ => Count("NBIRTH") == 2, Patience), "no rebirth");
            await Task.Delay(1500);
            Assert.Equal(2, Count("NBIRTH"));

            // A 200 KB metric name is refused, and neither the log nor the reported refusal carries it whole.
            await probe.PublishAsync("spBv1.0/plant9/NCMD/spb-bounds", NodeCommand(1, new string('N', 200_000), value: false));
            Assert.True(await probe.WaitForAsync(_ => logs.Any("command refused"), Patience), "the refusal was not logged");
            Assert.All(logs.Lines, l => Assert.True(l.Length < 4000, $"a log line of {l.Length} characters"));
            Assert.All(probe.Messages("/spb-bounds").Where(m => !m.Topic.Contains("/NCMD/", StringComparison.Ordinal)), m => Assert.True(m.Payload.Length < 20_000, $"a {m.Topic} of {m.Payload.Length} bytes"));

            await probe.PublishAsync(stateTopic, State(false, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            Assert.True(await probe.WaitForAsync(_ => Count("NDEATH") == 1, Patience), "a sane offline STATE must still end the session");
            await host.StopAsync();
        }
        finally
        {
            await probe.PublishRetainedAsync(stateTopic, []); // no retained STATE left for other tests
        }
    }

    [Fact]
    public async Task Idle_and_refused_connections_never_lock_out_metrics_or_healthz_and_metrics_pass_promtool()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("page-bounds", work, settleMilliseconds: 100);
        config["Agent:Web:Urls"] = "http://127.0.0.1:0";
        config["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information";
        var logs = new CapturedLogs();
        using var host = await AgentFixture.StartAgentAsync(config, logs);
        var address = new Uri((await host.Services.GetRequiredService<LivePageServer>().Listening.WaitAsync(TimeSpan.FromSeconds(30)))[0] + "/");
        Assert.Single(logs.Lines, l => l.Contains("Application started", StringComparison.Ordinal)); // the agent's, not also the page's own host
        TestData.DropCopy(work.File("inbox"), "m0.png", fixture.Pngs[0]);
        TestData.DropCopy(work.File("inbox"), "m1.png", fixture.Pngs[2]);
        await using (var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/page-bounds/verdict"))
        {
            await probe.StartAsync();
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 2, Patience));
        }

        // 500 connections that say nothing, then 200 requests from "another host" (refused and closed at once).
        var idle = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 500; i++)
            {
                var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, address.Port);
                idle.Add(c);
            }
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            for (int i = 0; i < 200; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "state");
                request.Headers.Host = "attacker.example";
                using var refused = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.True(refused.Headers.ConnectionClose == true, "a refused request's connection is closed");
            }
            using var health = await http.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            string metrics = await http.GetStringAsync("metrics");
            Assert.Contains("edgepatchcore_frames_scored_total", metrics);
            Assert.Contains("edgepatchcore_latency_p50_seconds", metrics);
            Assert.Contains("what=\"page-refused\"} 200", metrics);
            Assert.True(logs.Lines.Count(l => l.Contains("page-refused", StringComparison.Ordinal)) <= 3, "refusals are logged at a limited rate");

            // Prometheus's own checker (Debian's prometheus package; .ci/run installs it).
            string promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("promtool is not installed: apt-get install -y prometheus (.ci/run does this)");
            var check = new ProcessStartInfo(promtool, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(check)!;
            await process.StandardInput.WriteAsync(metrics);
            process.StandardInput.Close();
            string said = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"promtool check metrics: exit {process.ExitCode}\n{said}");
        }
        finally
        {
            foreach (var c in idle) c.Dispose();
        }
        await host.StopAsync();
    }

    [Fact]
    public async Task While_the_broker_is_unreachable_health_says_degraded_with_the_outbox_age_and_lost_heat_maps_are_counted()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("degraded", work, settleMilliseconds: 100);
        using var nobody = new TcpListener(IPAddress.Loopback, 0); // a port where no broker answers
        nobody.Start();
        config["Agent:Broker:Port"] = ((IPEndPoint)nobody.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        nobody.Stop();
        config["Agent:Web:Urls"] = "http://127.0.0.1:0";
        config["Agent:Publishing:Heatmaps"] = "true";
        config.Remove("Agent:Artifact");
        config["Agent:Models:0:Artifact"] = fixture.ModelA;
        config["Agent:Models:0:Threshold"] = "0.001"; // every frame a defect, with a heat map to publish
        using var host = await AgentFixture.StartAgentAsync(config);
        var address = new Uri((await host.Services.GetRequiredService<LivePageServer>().Listening.WaitAsync(TimeSpan.FromSeconds(30)))[0] + "/");
        TestData.DropCopy(work.File("inbox"), "o0.png", fixture.Pngs[0]);
        string done = Path.Combine(work.File("inbox"), "done");
        var deadline = DateTime.UtcNow + Patience;
        while (!(Directory.Exists(done) && Directory.GetFiles(done).Length == 1) && DateTime.UtcNow < deadline) await Task.Delay(50);
        using var http = new HttpClient { BaseAddress = address };
        using var health = await http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode); // inspecting: not unhealthy
        var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("degraded", json.GetProperty("status").GetString());
        Assert.Contains("unreachable", json.GetProperty("degraded")[0].GetString());
        Assert.True(json.GetProperty("outboxAgeSeconds").GetDouble() >= 0);
        var state = JsonDocument.Parse(await http.GetStringAsync("state")).RootElement;
        Assert.Equal("degraded", state.GetProperty("health").GetString()); // the page's badge
        Assert.True(host.Services.GetRequiredService<DropCounter>().Count("heatmap") >= 1, "a heat map that could not be published must be counted");
        Assert.Contains("what=\"heatmap\"}", await http.GetStringAsync("metrics"));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_batch_of_megapixel_frames_holds_no_more_decoded_bytes_than_its_budget()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("batch-bytes", work, settleMilliseconds: 100);
        config["Agent:Pipeline:MaxBatchBytes"] = (8L << 20).ToString(CultureInfo.InvariantCulture);
        // Six 2048 x 1536 frames (9 MiB each decoded) written first and moved in at once: they queue together.
        string staging = work.File("staging");
        Directory.CreateDirectory(staging);
        var random = new Random(7);
        for (int i = 0; i < 6; i++)
        {
            using var image = new Image<Rgb24>(2048, 1536);
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (int x = 0; x < row.Length; x++) row[x] = new Rgb24((byte)(x + i), (byte)y, (byte)random.Next(64));
                }
            });
            await image.SaveAsJpegAsync(Path.Combine(staging, $"big{i}.jpg"));
        }
        using var host = await AgentFixture.StartAgentAsync(config);
        foreach (var file in Directory.GetFiles(staging)) File.Move(file, Path.Combine(work.File("inbox"), Path.GetFileName(file)));
        string done = Path.Combine(work.File("inbox"), "done");
        var deadline = DateTime.UtcNow + Patience;
        while (!(Directory.Exists(done) && Directory.GetFiles(done).Length == 6) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var metrics = host.Services.GetRequiredService<AgentMetrics>();
        long frame = 2048L * 1536 * 3;
        Assert.True(metrics.LargestBatchBytes >= frame, "the frames were not scored");
        Assert.True(metrics.LargestBatchBytes <= frame, $"a batch held {metrics.LargestBatchBytes} bytes of decoded frames, over its 8 MiB budget (one frame at most past it)");
        await host.StopAsync();
    }
}
