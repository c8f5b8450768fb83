using System.Diagnostics;
using System.Globalization;
using EdgePatchCore.Agent;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tests.Cli;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SixLabors.ImageSharp;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// Shared by the agent tests: a real mosquitto, two small gasket models built by the real trainer
/// (A and B, different seeds, so different ids), and test frames as PNG and JPEG files.
/// </summary>
public sealed class AgentFixture : IDisposable
{
    public TempFolder Folder { get; } = new();
    public MosquittoBroker Broker { get; } = new();
    public string ModelA => Folder.File("model-a.pcb");
    public string ModelB => Folder.File("model-b.pcb");
    /// <summary>The plant's signing key pair (trainer keygen): agents given <see cref="PlantPublicKey"/> trust what it signs.</summary>
    public string PlantKey => Folder.File("plant.pem");
    public string PlantPublicKey => Folder.File("plant.pub.pem");
    /// <summary>Good and defective test frames (PNG), and the same pictures as JPEG.</summary>
    public IReadOnlyList<string> Pngs { get; }
    public IReadOnlyList<string> Jpegs { get; }

    /// <summary>The line's teach secret (what SCADA signs teach marks with), in a file every test agent is configured with.</summary>
    public const string TeachSecret = "line-secret-7d0c9a51e2b84f36a9c1d05e8b7f42aa";
    public string TeachSecretFile => Folder.File("teach-secret");

    /// <summary>A teach message as the line's SCADA sends it (HMAC over the body, this device, now, a fresh nonce); every part can be overridden.</summary>
    public static byte[] TeachMessage(string device, string[] frameIds, string label = "good", string? @operator = null, string? note = null,
                                      string? product = null, DateTimeOffset? issuedAt = null, string? nonce = null, string keyId = "scada",
                                      string secret = TeachSecret, string? requestId = null) =>
        EdgePatchCore.Agent.Teach.TeachAuthentication.Seal(
            new EdgePatchCore.Agent.Teach.TeachRequest(frameIds, label, @operator, note, product, requestId, device, issuedAt ?? DateTimeOffset.UtcNow,
                                                       nonce ?? Guid.NewGuid().ToString("N")),
            keyId, System.Text.Encoding.UTF8.GetBytes(secret));

    public AgentFixture()
    {
        File.WriteAllText(TeachSecretFile, TeachSecret + "\n");
        SigningKeys.Generate(PlantKey);
        Build(ModelA, seed: 3);
        Build(ModelB, seed: 5);
        string data = Folder.File("data-a");
        Pngs = new[] { "good/0000.png", "good/0001.png", "cut/0000.png", "scratch/0000.png", "contamination/0000.png", "good/0002.png" }
            .Select(p => Path.Combine(data, "test", p)).ToList();
        Directory.CreateDirectory(Folder.File("jpeg"));
        Jpegs = Pngs.Select((p, i) =>
        {
            string target = Folder.File($"jpeg/frame{i}.jpg");
            using var image = Image.Load(p);
            image.SaveAsJpeg(target);
            return target;
        }).ToList();
    }

    private void Build(string output, int seed)
    {
        string data = Folder.File(output.EndsWith("a.pcb") ? "data-a" : "data-b");
        new GasketGenerator(new GasketOptions { Seed = seed, TrainCount = 12, TestGoodCount = 3, TestPerDefect = 1 }).Write(data);
        var r = TrainerRunner.Run("build", "--product", "gasket", "--data", data, "--out", output, "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/> and signs it with the plant key as release <paramref name="version"/>; returns the id.</summary>
    public string Signed(string source, string target, long version, TimeSpan? validFor = null)
    {
        File.Copy(source, target, overwrite: true);
        using var key = SigningKeys.LoadPrivate(PlantKey);
        return ArtifactFile.Sign(target, key, new ReleaseOptions { Version = version, ValidFor = validFor ?? ReleaseOptions.DefaultValidity }).Id;
    }

    /// <summary>`trainer score` on the files with the exact float32 bank: path as given -> score.</summary>
    public Dictionary<string, double> TrainerScores(string artifact, IEnumerable<string> files)
    {
        var list = files.ToList();
        var r = TrainerRunner.Run(["score", artifact, .. list, "--device", "cpu", "--precision", "float32"]); // exact, whatever the default
        Assert.True(r.ExitCode == 0, r.Error);
        var scores = new Dictionary<string, double>();
        foreach (var line in r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            scores[parts[0]] = double.Parse(parts[1]["score ".Length..], CultureInfo.InvariantCulture);
        }
        return scores;
    }

    /// <summary>Agent configuration for a test: CPU, this broker, a private state folder and topic prefix.</summary>
    public Dictionary<string, string?> Config(string deviceId, string artifact, string stateDirectory) => new()
    {
        ["Agent:DeviceId"] = deviceId,
        ["Agent:Artifact"] = artifact,
        ["Agent:Device"] = "cpu",
        ["Agent:StateDirectory"] = stateDirectory,
        ["Agent:ArtifactPollSeconds"] = "0.2",
        ["Agent:Broker:Host"] = "127.0.0.1",
        ["Agent:Broker:Port"] = Broker.Port.ToString(CultureInfo.InvariantCulture),
        ["Agent:Broker:ReconnectMinMilliseconds"] = "100",
        ["Agent:Broker:ReconnectMaxMilliseconds"] = "1000",
        ["Agent:Publishing:MetricsIntervalSeconds"] = "1",
        ["Agent:Web:Urls"] = "", // the live page only where a test asks for it (AgentPageTests): no port shared between tests
        ["Agent:Teach:SecretFile"] = TeachSecretFile,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary><see cref="Config"/> plus a folder source on <paramref name="work"/>/inbox (created).</summary>
    public Dictionary<string, string?> FolderConfig(string deviceId, TempFolder work, int settleMilliseconds)
    {
        Directory.CreateDirectory(work.File("inbox"));
        var config = Config(deviceId, ModelA, work.File("state"));
        config["Agent:Sources:Folder:Path"] = work.File("inbox");
        config["Agent:Sources:Folder:SettleMilliseconds"] = settleMilliseconds.ToString(CultureInfo.InvariantCulture);
        return config;
    }

    public static async Task<IHost> StartAgentAsync(Dictionary<string, string?> config, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        var builder = AgentHost.CreateBuilder([], null, config);
        if (logs is not null) builder.Logging.AddProvider(logs);
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<ArtifactWatcher>().InitialLoad.WaitAsync(TimeSpan.FromSeconds(60));
        return host;
    }

    /// <summary>
    /// The agent as its own process (dotnet agent.dll --Agent:...=...), for kill -9; standard error goes to
    /// <paramref name="stderr"/> when given; <paramref name="wrapper"/> (a program and its arguments) runs it, e.g. under strace.
    /// </summary>
    public static Process StartAgentProcess(Dictionary<string, string?> config, System.Collections.Concurrent.ConcurrentQueue<string>? stderr = null, string[]? wrapper = null,
                                           System.Collections.Concurrent.ConcurrentQueue<string>? stdout = null)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(wrapper?[0] ?? dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in wrapper?.Skip(1) ?? []) start.ArgumentList.Add(arg);
        if (wrapper is not null) start.ArgumentList.Add(dotnet);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "agent.dll"));
        foreach (var (key, value) in config) start.ArgumentList.Add($"--{key}={value}");
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout?.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr?.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public void Dispose()
    {
        Broker.Dispose();
        Folder.Dispose();
    }
}

[CollectionDefinition("agent")]
public sealed class AgentCollection : ICollectionFixture<AgentFixture>;
