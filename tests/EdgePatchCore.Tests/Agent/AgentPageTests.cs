using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Web;
using EdgePatchCore.Tests.Cli;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The agent's live page, /metrics and /healthz, through a real agent host, a real mosquitto and Debian's chromium.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public partial class AgentPageTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private const string Token = "line-7-inspection-page-token";

    private static async Task<Uri> PageAddressAsync(IHost host) =>
        new((await host.Services.GetRequiredService<LivePageServer>().Listening.WaitAsync(TimeSpan.FromSeconds(30)))[0] + "/");

    [Fact]
    public async Task The_page_shows_counters_models_and_heat_maps_and_updates_live_when_a_frame_is_scored()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("page-test", work, settleMilliseconds: 100);
        config["Agent:Web:Urls"] = "http://127.0.0.1:0";
        config.Remove("Agent:Artifact");
        config["Agent:Models:0:Artifact"] = fixture.ModelA;
        config["Agent:Models:0:Threshold"] = "31"; // the tiny test model's own threshold passes everything: some frames must be defects
        using var host = await AgentFixture.StartAgentAsync(config);
        var address = await PageAddressAsync(host);

        var (playwright, browser) = await Browser.LaunchAsync();
        using var _ = playwright;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 900 } });
        var errors = new List<string>();
        var foreign = new List<string>();
        int navigations = 0;
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"{m.Text} ({m.Location})"); };
        page.PageError += (_, e) => errors.Add(e);
        page.Request += (_, r) => { if (!r.Url.StartsWith(address.AbsoluteUri, StringComparison.Ordinal)) foreign.Add(r.Url); };
        page.FrameNavigated += (_, f) => { if (f == page.MainFrame) navigations++; };
        await page.GotoAsync(address.AbsoluteUri);
        await page.WaitForFunctionAsync("() => document.getElementById('scored').textContent === '0'");
        Assert.Equal("healthy", await page.InnerTextAsync("#health"));
        var model = EdgePatchCore.Artifacts.ArtifactFile.Read(fixture.ModelA);
        Assert.Contains(model.Id, await page.InnerTextAsync("#models"));

        // Frames scored while the page is open show up without a reload: the counters move and the heat maps load.
        string inbox = work.File("inbox");
        for (int i = 0; i < fixture.Pngs.Count; i++) TestData.DropCopy(inbox, $"p{i}.png", fixture.Pngs[i]);
        int frames = fixture.Pngs.Count;
        await page.WaitForFunctionAsync($"() => document.getElementById('scored').textContent === '{frames}'", null, new() { Timeout = (float)Patience.TotalMilliseconds });
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#frames figure').length === {frames}");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#frames img')].every(i => i.complete && i.naturalWidth === 224)");
        var verdicts = await page.Locator("#frames figure").EvaluateAllAsync<string[]>("fs => fs.map(f => f.dataset.verdict)");
        int defects = verdicts.Count(v => v == "defect");
        Assert.True(defects > 0 && defects < frames, string.Join(",", verdicts));
        Assert.Equal(defects.ToString(CultureInfo.InvariantCulture), await page.InnerTextAsync("#defects"));

        // The filter shows the good parts alone (and the defects alone), then all again, newest first.
        await page.ClickAsync("#filter button[data-show=ok]");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#frames figure').length === {frames - defects}");
        Assert.All(await page.Locator("#frames figure").EvaluateAllAsync<string[]>("fs => fs.map(f => f.dataset.verdict)"), v => Assert.Equal("ok", v));
        await page.ClickAsync("#filter button[data-show=defect]");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#frames figure').length === {defects}");
        await page.ClickAsync("#filter button[data-show=all]");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#frames figure').length === {frames}");
        Assert.Equal($"p{frames - 1}.png", await page.Locator("#frames figure .name").First.InnerTextAsync());

        // A thumbnail is loaded once and stays: a new frame does not make the others load again. A long name shows whole on hover.
        await page.EvaluateAsync("() => document.querySelectorAll('#frames img').forEach(i => i.dataset.seen = '1')");
        string longName = "line-7-station-3-camera-2-part-" + new string('9', 60) + ".png";
        TestData.DropCopy(inbox, longName, fixture.Pngs[0]);
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#frames figure').length === {frames + 1}", null, new() { Timeout = (float)Patience.TotalMilliseconds });
        Assert.Equal(frames, await page.EvaluateAsync<int>("() => [...document.querySelectorAll('#frames img')].filter(i => i.dataset.seen === '1' && i.complete && i.naturalWidth === 224).length"));
        Assert.Equal(longName, await page.Locator("#frames figure .name").First.GetAttributeAsync("title"));
        frames++;
        Assert.Matches(@"^\d+ / \d+$", await page.InnerTextAsync("#latency"));
        Assert.Equal(1, navigations);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.Empty(foreign);
        if (Environment.GetEnvironmentVariable("EDGEPATCHCORE_SCREENSHOTS") is { Length: > 0 } shots)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "agent-page.png"), FullPage = true });

        // /metrics is Prometheus text with the frame counters; /healthz answers a watchdog.
        using var http = new HttpClient { BaseAddress = address };
        string metrics = await http.GetStringAsync("metrics");
        var samples = ParsePrometheus(metrics);
        Assert.Equal(frames, samples["edgepatchcore_frames_scored_total"]);
        Assert.Equal(defects, samples["edgepatchcore_frames_defect_total"]);
        Assert.Equal(0, samples["edgepatchcore_frames_error_total"]);
        Assert.Equal(1, samples["edgepatchcore_models_loaded"]);
        Assert.Equal(1, samples["edgepatchcore_broker_connected"]);
        using var health = await http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
    }

    /// <summary>
    /// Prometheus text exposition format 0.0.4: every line is a comment (# HELP / # TYPE name type) or
    /// "name{label="value",...} number"; each sample's family is declared by a # TYPE line before it. Returns name -> value.
    /// </summary>
    private static Dictionary<string, double> ParsePrometheus(string text)
    {
        var declared = new HashSet<string>();
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(parts.Length == 4 && parts[3] is "counter" or "gauge" or "histogram" or "summary" or "untyped", line);
                declared.Add(parts[2]);
                continue;
            }
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            var sample = Sample().Match(line);
            Assert.True(sample.Success, $"not a Prometheus sample line: {line}");
            string name = sample.Groups["name"].Value;
            Assert.Contains(name, declared);
            samples[name] = sample.Groups["value"].Value == "NaN" ? double.NaN : double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (?<value>NaN|[+-]?Inf|[-+0-9.eE]+)( -?\d+)?$""")]
    private static partial Regex Sample();

    [Fact]
    public async Task The_page_refuses_other_host_names_and_asks_for_the_token_when_one_is_set()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("page-guard", work, settleMilliseconds: 100);
        config["Agent:Web:Urls"] = "http://127.0.0.1:0";
        config["Agent:Web:Token"] = Token;
        using var host = await AgentFixture.StartAgentAsync(config);
        var address = await PageAddressAsync(host);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = address };

        async Task<HttpStatusCode> Get(string path, Action<HttpRequestMessage>? change = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            change?.Invoke(request);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        // A page elsewhere that points a host name at 127.0.0.1 (DNS rebinding) is refused, even with the token.
        Assert.Equal(HttpStatusCode.Forbidden, await Get("state", r => { r.Headers.Host = "inspection.example.com"; r.Headers.Authorization = new("Bearer", Token); }));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get(""));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("state", r => r.Headers.Authorization = new("Bearer", Token + "x")));
        Assert.Equal(HttpStatusCode.OK, await Get("state", r => r.Headers.Authorization = new("Bearer", Token)));
        Assert.Equal(HttpStatusCode.OK, await Get("metrics", r => r.Headers.Authorization = new("Bearer", Token)));
        Assert.Equal(HttpStatusCode.OK, await Get("healthz")); // a watchdog needs no token

        // A browser opens /?token=... once: the token becomes a cookie and leaves the address.
        using var first = await http.GetAsync("?token=" + Token);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/", first.Headers.Location?.OriginalString);
        string cookie = first.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, await Get("", r => r.Headers.Add("Cookie", cookie.Split(';')[0])));
    }

    [Fact]
    public async Task Bound_to_loopback_the_guard_refuses_a_request_from_another_machine()
    {
        var guard = new AccessGuard(loopbackOnly: true, token: "", maxClients: 4,
                                    new EdgePatchCore.Agent.Pipeline.DropCounter(Microsoft.Extensions.Logging.Abstractions.NullLogger<EdgePatchCore.Agent.Pipeline.DropCounter>.Instance));
        bool served = false;
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("127.0.0.1", 8080);
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.1.2.3");
        context.Response.Body = new MemoryStream();
        await guard.InvokeAsync(context, _ => { served = true; return Task.CompletedTask; });
        Assert.False(served);
        Assert.Equal(StatusCodes.Status403Forbidden, context.Response.StatusCode);

        context = new DefaultHttpContext();
        context.Request.Host = new HostString("localhost", 8080);
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        await guard.InvokeAsync(context, _ => { served = true; return Task.CompletedTask; });
        Assert.True(served);
    }

    [Fact]
    public void An_address_other_machines_can_reach_needs_a_token()
    {
        static List<string> Problems(WebOptions web) =>
            new WebOptionsValidation().Problems(new AgentOptions { Artifact = "m.pcb", Web = web, Sources = new() { Folder = new() { Path = "/tmp" } } });
        Assert.Contains(Problems(new WebOptions { Urls = "http://0.0.0.0:8080" }), p => p.Contains("Agent:Web:TokenFile", StringComparison.Ordinal));
        Assert.Contains(Problems(new WebOptions { Urls = "http://0.0.0.0:8080", Token = "short" }), p => p.Contains("at least 16", StringComparison.Ordinal));
        Assert.Contains(Problems(new WebOptions { Urls = "https://127.0.0.1:8080" }), p => p.Contains("is not an http://", StringComparison.Ordinal));
        Assert.DoesNotContain(Problems(new WebOptions { Urls = "http://0.0.0.0:8080", Token = Token }), p => p.Contains("Agent:Web", StringComparison.Ordinal));
        Assert.DoesNotContain(Problems(new WebOptions()), p => p.Contains("Agent:Web", StringComparison.Ordinal)); // the default: loopback, no token
        Assert.DoesNotContain(Problems(new WebOptions { Urls = "" }), p => p.Contains("Agent:Web", StringComparison.Ordinal)); // off
        // A host name is not loopback, whatever it resolves to: Kestrel would listen on every interface for it.
        Assert.False(new WebOptions { Urls = "http://loopback:8080" }.LoopbackOnly);
        Assert.Contains(Problems(new WebOptions { Urls = "http://loopback:8080" }), p => p.Contains("names a host", StringComparison.Ordinal));
        Assert.True(new WebOptions { Urls = "http://127.0.0.2:8080;http://[::1]:8080;http://localhost:8080" }.LoopbackOnly);
    }

    [Fact]
    public async Task A_page_that_cannot_listen_never_stops_inspection()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var work = new TempFolder();
        var config = fixture.FolderConfig("page-port-taken", work, settleMilliseconds: 100);
        config["Agent:Web:Urls"] = $"http://127.0.0.1:{port}";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/page-port-taken/verdict");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        TestData.DropCopy(work.File("inbox"), "frame.png", fixture.Pngs[0]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 1, Patience), "no verdict while the page's port was taken");
        Assert.False(host.Services.GetRequiredService<LivePageServer>().Listening.IsCompleted);
        await host.StopAsync();
    }
}
