using System.CommandLine;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Cameras;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Sources;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Agent;

/// <summary>The agent's command line: run (default), check-config, cameras, --help, --version.</summary>
public static class AgentProgram
{
    public const int ExitOk = ExitCodes.Ok, ExitFailure = ExitCodes.Failure, ExitUsage = ExitCodes.Usage, ExitConfig = ExitCodes.Configuration;

    /// <summary>What --help prints after the commands and options: the configuration, topics and exit codes.</summary>
    public const string ConfigurationHelp = """
        configuration (lowest precedence first): appsettings.json next to the program,
          /etc/edgepatchcore/agent.json (or --config FILE), EDGEPATCHCORE__Agent__Key environment variables,
          --Agent:Key=value arguments.
        main keys:
          Agent:Artifact              the .pcb model (or Agent:Models:N:Artifact, one per product; :Product pins a slot's product)
          Agent:Device                auto | cpu | cuda                        (default auto)
          Agent:DeviceId              names the device in topics               (default: host name)
          Agent:TopicPrefix           default edgepatchcore/{DeviceId}
          Agent:StateDirectory        outbox location (default $STATE_DIRECTORY or /var/lib/edgepatchcore)
          Agent:TrustedKeys:N         public keys (trainer keygen) whose signed artifacts are accepted;
                                      Agent:RequireSignature defaults to true once a key is set.
                                      Over-the-air deployment (trainer deploy) is on only with a trusted key
                                      (or Agent:Deployment:AllowUnsigned=true, lab use only); see docs/SECURITY.md
          Agent:Deployment            MaxArtifactBytes (1 GiB), TransferExpiryMinutes (60)
          Agent:Broker:Host/Port      MQTT broker (default localhost:1883); Username, PasswordFile (or Password
                                      from EDGEPATCHCORE__Agent__Broker__Password); Tls, CaFile,
                                      ClientCertificateFile, ClientKeyFile
          Agent:Sources:Folder:Path   watched drop folder (scored files move to done/ or failed/)
          Agent:Sources:Mqtt:Topic    topic carrying JPEG/PNG frames (user properties frameId, product)
          Agent:Sources:Mjpeg:Command command printing an MJPEG stream ("-" = standard input); :Arguments
          Agent:Sources:Http:Url      snapshot URL polled every :IntervalMilliseconds
          Agent:Sources:GenICam       a GigE Vision camera: Address (IPv4), or Serial or Name found on Interface only; PixelFormat
                                      (Mono8, RGB8, Bayer*8), Width, Height, OffsetX/Y, ExposureMicroseconds, Gain,
                                      FrameRate, TriggerSource (Software: {prefix}/trigger; Line0..: the PLC's wire),
                                      TriggerActivation, Buffers (8), ReconnectMaxSeconds (10); agent cameras --help
          Agent:Triggers              DeadlineMilliseconds (500): every trigger is answered on {prefix}/result by then;
                                      MaxPending (8); Agent:ReviewRate (0: off; e.g. 0.05): the REVIEW band
          Agent:Limits                MaxWidth x MaxHeight (the camera's size, default 8192 x 6144), MaxPixels (their
                                      product), MaxFrameBytes (64 MiB), MaxAspectRatio (16), MaxJpegScans (64),
                                      DecodeTimeoutMilliseconds (5000), AcceptTiff (false)
          Agent:Web:Urls              the live page, /metrics and /healthz (default http://127.0.0.1:8080; empty: off);
                                      another address needs Agent:Web:TokenFile; :RecentFrames (24)
          Agent:Teach                 SecretFile (or the systemd credential teach-secret): the line's secret that SCADA's
                                      marks on {prefix}/teach are authenticated with (HMAC-SHA256; none: teaching off),
                                      SecretId (scada), MaxAgeSeconds (300); KeepFrames (500), KeepRejects (0), KeepBytes
                                      (1 GiB): scored frames kept so they can be marked good; MaxTaught (1000),
                                      MaxTaughtBytes (1 GiB); OnDevice (false): extend the signed model and serve the
                                      unsigned result at once, MaxDerivedRows (20000) (docs/TEACH.md)
          Agent:Sparkplug             Enabled (false), GroupId, EdgeNodeId (default DeviceId), PrimaryHostId:
                                      a Sparkplug B 3.0 edge node beside the JSON topics (docs/SPARKPLUG.md)
          Agent:Pipeline:QueueCapacity / MaxBatch / MaxBatchBytes (512 MiB of decoded frames; checked against
                                      the unit's MemoryMax, or MemoryMaxBytes), Agent:Publishing:Heatmaps / MetricsIntervalSeconds /
                                      OutboxMaxMessages / OutboxMaxBytes / MaxPublishAttempts / RepublishWindowSeconds
        topics: {prefix}/verdict, /status (retained, Will = offline), /metrics, /heatmap, /event,
                /deploy/request and /deploy/status (trainer deploy), /teach, /teach/status, /teach/collect,
                /trigger, /trigger/state (retained), /result, /result/late, /recipe, /recipe/state (retained)
        unknown keys, JSON syntax errors and numbers out of range are configuration errors (exit 78)
        exit codes: 0 stopped on request, 1 a failure stopped the agent (systemd restarts it), 2 usage,
                    78 configuration error (systemd does not restart)
        """;

    /// <summary>
    /// Parses the command line (System.CommandLine): `agent [--config FILE] [--Agent:Key=value ...]` runs the service,
    /// `agent check-config [...]` validates and exits. `--Agent:Key=value` arguments are left to the host's
    /// configuration. Usage errors exit 2, configuration errors 78.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var config = new Option<string?>("--config")
        {
            Description = "the configuration file (default /etc/edgepatchcore/agent.json)", HelpName = "FILE", Recursive = true,
        };
        config.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } file && !File.Exists(file)) r.AddError($"configuration file {file} does not exist");
        });
        var checkConfig = new Command("check-config",
            "validate the configuration and the artifacts, then exit") { TreatUnmatchedTokensAsErrors = false };
        var address = new Option<string?>("--address") { Description = "the camera's IPv4 address (nothing is broadcast)", HelpName = "A" };
        var serial = new Option<string?>("--serial") { Description = "find the camera by serial number on --interface (discovery on that interface " +
                                                                    "only)", HelpName = "S" };
        var name = new Option<string?>("--name") { Description = "find it by its user-defined name on --interface", HelpName = "N" };
        var networkInterface = new Option<string?>("--interface")
        {
            Description = "the network interface that reaches it (with --address, default: the one whose subnet holds it); alone: list the " +
                          "cameras that answer there", HelpName = "NAME",
        };
        var frames = new Option<int>("--frames") { Description = "also acquire this many frames free-running (triggers switched off) and say " +
                                                                 "how they came: rate, incomplete frames, CPU per frame", HelpName = "N" };
        frames.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 100_000) r.AddError("--frames must be 0..100000"); });
        var cameras = new Command("cameras", "open a GigE Vision camera (--address, or --serial or --name on --interface) and say what it is " +
                                             "(vendor, model, serial, pixel format, size), or list those on --interface; then exit")
            { address, serial, name, networkInterface, frames };
        var root = new RootCommand("agent: EdgePatchCore inspection agent. Scores camera frames and publishes verdicts over MQTT. " +
                                   "Without a command it runs the service (systemd: Type=notify); --Agent:Key=value arguments override the " +
                                       "configuration.")
        { config, checkConfig, cameras };
        root.TreatUnmatchedTokensAsErrors = false;
        foreach (var c in new Command[] { root, checkConfig }) c.SetAction(_ => ExitOk); // run below, with the host's exit codes
        var parsed = root.Parse(args);
        var command = parsed.CommandResult.Command;
        // A word that is not a command would reach the host as configuration: name it as the mistake it is.
        if (command == root && parsed.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-') && !IsOptionValue(parsed.UnmatchedTokens,
            t)) is { } word)
        {
            Console.Error.WriteLine(word == "demo" ? "error: the demo is not part of the agent: run bash demo.sh in the source tree (see README)"
                                                   : $"error: unknown command '{word}' (see agent --help)");
            return ExitUsage;
        }
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine($"error: {e.Message} (see agent --help)");
            return ExitUsage;
        }
        if (parsed.Action is System.CommandLine.Help.HelpAction)
        {
            parsed.Invoke();
            Console.WriteLine();
            Console.WriteLine(ConfigurationHelp);
            return ExitOk;
        }
        if (args.Contains("--version")) { Console.WriteLine($"agent {BrokerConnection.Version}"); return ExitOk; }
        if (command == cameras)
            return Cameras(parsed.GetValue(address), parsed.GetValue(serial) ?? parsed.GetValue(name), parsed.GetValue(networkInterface),
                           parsed.GetValue(frames));
        string? configFile = parsed.GetValue(config);
        string[] hostArgs = [.. parsed.UnmatchedTokens];
        return command == checkConfig ? CheckConfig(configFile, hostArgs) : await RunServiceAsync(configFile, hostArgs);
    }

    /// <summary>Whether <paramref name="token"/> is the value of the `--Agent:Key value` before it.</summary>
    private static bool IsOptionValue(IReadOnlyList<string> tokens, string token)
    {
        int at = tokens.ToList().IndexOf(token);
        return at > 0 && tokens[at - 1].StartsWith("--", StringComparison.Ordinal) && !tokens[at - 1].Contains('=');
    }

    private static async Task<int> RunServiceAsync(string? configFile, string[] hostArgs)
    {
        if (Builder(hostArgs, configFile) is not { } builder) return ExitConfig;
        var problems = Validate(builder, AgentHost.ReadOptions(builder.Configuration));
        if (problems.Count > 0)
        {
            foreach (var p in problems) Console.Error.WriteLine($"error: {p}");
            Console.Error.WriteLine("the agent did not start: fix the configuration (agent check-config shows the same)");
            return ExitConfig;
        }
        using var host = builder.Build();
        return await RunHostAsync(host);
    }

    /// <summary>Runs the host until it stops; the exit code says whether it stopped because it was asked to (0) or because something failed
    /// (1).</summary>
    public static async Task<int> RunHostAsync(IHost host)
    {
        try
        {
            await host.StartAsync();
            await host.WaitForShutdownAsync();
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures) Console.Error.WriteLine($"error: {failure}");
            Console.Error.WriteLine("the agent did not start: fix the configuration (agent check-config shows the same)");
            return ExitConfig;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A service that failed to start: systemd must see a failure (and restart the agent), never a clean exit.
            Console.Error.WriteLine($"error: the agent stopped: {e.GetType().Name}: {e.Message}");
            return ExitFailure;
        }
        return ExitCodeAfterStop(host);
    }

    /// <summary>
    /// 0 when the host stopped because it was asked to (SIGTERM, Ctrl-C); 1 when it stopped because a
    /// service failed (the host stops on an unhandled exception in a background service), so that
    /// systemd's Restart=on-failure restarts the agent.
    /// </summary>
    public static int ExitCodeAfterStop(IHost host)
    {
        var failed = host.Services.GetServices<IHostedService>().OfType<BackgroundService>()
            .Where(s => s.ExecuteTask is { IsFaulted: true }).ToList();
        foreach (var service in failed)
            Console.Error.WriteLine($"error: {service.GetType().Name} failed: {service.ExecuteTask!.Exception?.GetBaseException().Message}");
        return failed.Count == 0 ? ExitOk : ExitFailure;
    }

    /// <summary>`agent cameras`: one camera described (and acquired from), or the cameras answering on an interface listed.</summary>
    private static int Cameras(string? address, string? serialOrName, string? networkInterface, int frames)
    {
        string label = address ?? serialOrName ?? networkInterface ?? "";
        try
        {
            if (address is null && serialOrName is null)
            {
                if (networkInterface is null)
                {
                    Console.Error.WriteLine("error: give --address, or --serial or --name with --interface, or --interface alone to list " +
                                            "(see agent cameras --help)");
                    return ExitUsage;
                }
                var (found, local) = GigEDiscovery.OnInterface(networkInterface, GenICamSource.DiscoveryListen);
                foreach (var c in found)
                    Console.WriteLine($"{c.Address}  {c.Manufacturer} {c.Model}, serial {c.Serial}" +
                                      (c.UserDefinedName.Length > 0 ? $", name {c.UserDefinedName}" : ""));
                Console.WriteLine($"{found.Count} camera(s) answered on {networkInterface} ({local})");
                return ExitOk;
            }
            if (address is null)
            {
                if (networkInterface is null)
                {
                    Console.Error.WriteLine("error: --serial and --name need --interface: the discovery is sent on that interface only");
                    return ExitUsage;
                }
                address = GigEDiscovery.Find(networkInterface, serialOrName!, GenICamSource.DiscoveryListen).Camera.ToString();
            }
            Console.WriteLine($"camera {address}: {CameraProbe.Describe(address, networkInterface)}");
            if (frames > 0) Console.WriteLine($"camera {address}: {CameraProbe.Acquire(address, networkInterface, frames)}");
            return ExitOk;
        }
        catch (CameraException e)
        {
            Console.Error.WriteLine($"error: camera {label}: {e.Message}");
            return ExitFailure;
        }
    }

    private static int CheckConfig(string? configFile, string[] hostArgs)
    {
        if (Builder(hostArgs, configFile) is not { } builder) return ExitConfig;
        var options = AgentHost.ReadOptions(builder.Configuration);
        var problems = Validate(builder, options);
        foreach (var m in options.AllModels.Where(m => !string.IsNullOrWhiteSpace(m.Artifact)))
        {
            try
            {
                var a = ArtifactFile.Read(m.Artifact);
                string release = a.Release is { } r ? $", release {r.Version} (expires {r.ExpiresAtUtc:yyyy-MM-dd})" : a.Signature is null ? ", " +
                    "unsigned" : ", no release statement";
                Console.WriteLine($"model {m.Artifact}: product {a.Content.Manifest.Product}, id {a.Id}, bank {a.Content.Bank.Rows} x " +
                    $"{a.Content.Bank.Columns}, threshold {m.Threshold ?? a.Content.Scoring.Threshold:G6}{release}");
                if (options.TrustedKeys.Count > 0 && !(a.Signature is null && options.RequireSignature == false)
                    && new TrustedKeys(options.TrustedKeys).Check(a) is { } untrusted)
                    problems.Add($"artifact {m.Artifact}: {untrusted}");
            }
            catch (Exception e) when (e is ArtifactException or IOException or UnauthorizedAccessException)
            {
                problems.Add(e is FileNotFoundException ? $"artifact {m.Artifact} does not exist" : $"artifact {m.Artifact}: {e.Message}");
            }
        }
        Console.WriteLine($"device id {options.DeviceId}, topics {options.ResolvedTopicPrefix}/..., state {options.ResolvedStateDirectory}, broker " +
            $"{(string.IsNullOrEmpty(options.Broker.Host) ? "(none)" : $"{options.Broker.Host}:{options.Broker.Port}")}");
        Console.WriteLine(options.Web.Enabled ? $"live page " +
            $"{options.Web.Urls}{(options.Web.LoopbackOnly ? " (this machine only)" : " (token required)")}" : "live page off");
        Console.WriteLine(options.Teach.DerivedModelsSentence(options.SignatureRequired));
        Console.WriteLine(options.Teach.ResolvedSecretFile.Length > 0 ? $"teaching: messages authenticated with secret '{options.Teach.SecretId}'"
                                                                       : "teaching: off (no Agent:Teach:SecretFile)");
        if (options.Sources.GenICam is { } camera && problems.Count == 0)
        {
            // Not a configuration problem when it fails: the agent keeps trying to reach the camera.
            try
            {
                string at = !string.IsNullOrWhiteSpace(camera.Address) ? camera.Address
                    : GigEDiscovery.Find(camera.Interface, camera.Serial ?? camera.Name!, GenICamSource.DiscoveryListen).Camera.ToString();
                Console.WriteLine($"camera {camera.Describe()}: {CameraProbe.Describe(at, camera.Interface)}");
            }
            catch (CameraException e)
            {
                Console.WriteLine($"camera {camera.Describe()}: not reachable now ({e.Message}); the agent keeps trying");
            }
        }
        foreach (var p in problems) Console.Error.WriteLine($"error: {p}");
        Console.WriteLine(problems.Count == 0 ? "configuration OK" : $"{problems.Count} problem(s)");
        return problems.Count == 0 ? ExitOk : ExitConfig;
    }

    /// <summary>The host's builder; null, after one line naming the file, line and column, when a configuration file is not valid JSON.</summary>
    private static HostApplicationBuilder? Builder(string[] hostArgs, string? configFile)
    {
        try { return AgentHost.CreateBuilder(hostArgs, configFile); }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"error: {ConfigurationFileError(e, configFile ?? AgentHost.DefaultConfigFile)}");
            Console.Error.WriteLine("the agent did not start: fix the configuration (agent check-config shows the same)");
            return null;
        }
    }

    /// <summary>"FILE: not valid JSON at line L, column C (what the parser expected)" from the configuration library's exception.</summary>
    public static string ConfigurationFileError(InvalidDataException e, string fallbackFile)
    {
        var quoted = System.Text.RegularExpressions.Regex.Match(e.Message, "'([^']+)'");
        string file = quoted.Success ? quoted.Groups[1].Value : fallbackFile;
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is not System.Text.Json.JsonException json) continue;
            string reason = json.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd(' ', '.');
            return $"{file}: not valid JSON at line {(json.LineNumber ?? 0) + 1}, column {(json.BytePositionInLine ?? 0) + 1} ({reason})";
        }
        return $"{file}: {e.GetBaseException().Message}";
    }

    /// <summary>
    /// What every registered validator finds (the configuration's and each feature's), plus what only the file system can
    /// tell (the state directory must be writable); writes nothing.
    /// </summary>
    public static List<string> Validate(HostApplicationBuilder builder, AgentOptions options)
    {
        using var validators = builder.Services.BuildServiceProvider();
        var problems = validators.GetServices<IValidateOptions<AgentOptions>>()
            .SelectMany(v => v.Validate(null, options) is { Failed: true } r ? r.Failures : []).Distinct().ToList();
        string state = options.ResolvedStateDirectory;
        try { _ = new Trust.ReleaseLedger(state); }
        catch (InvalidOperationException e) { problems.Add(e.Message); }
        if (EdgePatchCore.FileSystem.WritableFolder.Problem(state) is { } why) problems.Add($"state directory {state} cannot be written: {why}; " +
            $"set Agent:StateDirectory");
        return problems;
    }
}
