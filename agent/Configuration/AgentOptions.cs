using EdgePatchCore.Devices;
using EdgePatchCore.Search;
namespace EdgePatchCore.Agent.Configuration;

/// <summary>The "Agent" configuration section (appsettings.json, /etc/edgepatchcore/agent.json, EDGEPATCHCORE__Agent__*, --Agent:*).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Names this device in topics and client ids; defaults to the host name.</summary>
    public string DeviceId { get; set; } = Environment.MachineName;
    /// <summary>MQTT topic prefix; empty means edgepatchcore/{DeviceId}.</summary>
    public string TopicPrefix { get; set; } = "";
    /// <summary>Outbox and other state; systemd's $STATE_DIRECTORY when empty and set, else /var/lib/edgepatchcore.</summary>
    public string StateDirectory { get; set; } = "";
    /// <summary>auto (CUDA when it loads, else CPU), cpu or cuda.</summary>
    public DeviceKind Device { get; set; } = DeviceKind.Auto;
    /// <summary>How the kNN holds the bank: auto (float16 on CUDA, int8 on CPUs with int8 dot products, else float32), float32, float16 or int8.</summary>
    public BankPrecision BankPrecision { get; set; } = BankPrecision.Auto;

    /// <summary>Settings that could not be read into their type (an unknown enum name), one sentence each; never bound.</summary>
    public IReadOnlyList<string> UnreadableSettings { get; internal set; } = [];

    /// <summary>Shortcut for a single model: the .pcb file to serve.</summary>
    public string Artifact { get; set; } = "";
    /// <summary>Several models, one per product.</summary>
    public List<ModelOptions> Models { get; set; } = [];
    /// <summary>Public key files (trainer keygen's KEY.pub.pem) whose signatures this agent accepts.</summary>
    public List<string> TrustedKeys { get; set; } = [];
    /// <summary>Refuse unsigned artifacts; when not set, on as soon as any trusted key is configured.</summary>
    public bool? RequireSignature { get; set; }
    public bool SignatureRequired => RequireSignature ?? TrustedKeys.Count > 0;
    /// <summary>How often the artifact files are checked for a new version.</summary>
    public double ArtifactPollSeconds { get; set; } = 2;

    public BrokerOptions Broker { get; set; } = new();
    public DeploymentOptions Deployment { get; set; } = new();
    public SourcesOptions Sources { get; set; } = new();
    public PipelineOptions Pipeline { get; set; } = new();
    public PublishingOptions Publishing { get; set; } = new();
    public FrameLimitsOptions Limits { get; set; } = new();
    public WebOptions Web { get; set; } = new();
    public SparkplugOptions Sparkplug { get; set; } = new();
    public TeachOptions Teach { get; set; } = new();

    public string ResolvedTopicPrefix => string.IsNullOrWhiteSpace(TopicPrefix) ? $"edgepatchcore/{DeviceId}" : TopicPrefix.TrimEnd('/');

    public string ResolvedStateDirectory =>
        !string.IsNullOrWhiteSpace(StateDirectory) ? StateDirectory
        : Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } systemd ? systemd.Split(':')[0]
        : "/var/lib/edgepatchcore";

    /// <summary>The configured models: <see cref="Models"/> plus the <see cref="Artifact"/> shortcut.</summary>
    public IReadOnlyList<ModelOptions> AllModels =>
        string.IsNullOrWhiteSpace(Artifact) ? Models : [new ModelOptions { Artifact = Artifact }, .. Models];
}

public sealed class ModelOptions
{
    public string Artifact { get; set; } = "";
    /// <summary>The product this slot serves; when set, a model for another product is refused here. Names the slot for `trainer deploy --slot`.</summary>
    public string? Product { get; set; }
    /// <summary>Overrides the artifact's calibrated threshold on this device.</summary>
    public double? Threshold { get; set; }
}

public sealed class BrokerOptions
{
    /// <summary>Empty disables MQTT (verdicts then stay in the outbox until a broker is configured).</summary>
    public string Host { get; set; } = "localhost";
    public int Port { get; set; } = 1883;
    /// <summary>Empty means edgepatchcore-{DeviceId}; must be stable so the broker keeps the session.</summary>
    public string ClientId { get; set; } = "";
    public string Username { get; set; } = "";
    /// <summary>A file holding the password (readable by the service user only).</summary>
    public string PasswordFile { get; set; } = "";
    /// <summary>The password itself, for EDGEPATCHCORE__Agent__Broker__Password from a secret store; never logged.</summary>
    public string Password { get; set; } = "";

    /// <summary>systemd's LoadCredential= name for the password: $CREDENTIALS_DIRECTORY/mqtt-password.</summary>
    public const string PasswordCredential = "mqtt-password";

    /// <summary>
    /// <see cref="PasswordFile"/>, or, when neither it nor <see cref="Password"/> is set, the systemd credential
    /// (LoadCredential=mqtt-password:FILE in the unit) when one was passed and is not empty.
    /// </summary>
    public string ResolvedPasswordFile
    {
        get
        {
            if (!string.IsNullOrEmpty(PasswordFile) || !string.IsNullOrEmpty(Password)) return PasswordFile;
            string? dir = Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY");
            if (string.IsNullOrEmpty(dir)) return "";
            string credential = System.IO.Path.Combine(dir, PasswordCredential);
            return File.Exists(credential) && new FileInfo(credential).Length > 0 ? credential : "";
        }
    }
    /// <summary>Connect with TLS (the usual port is 8883).</summary>
    public bool Tls { get; set; }
    /// <summary>PEM file of the CA(s) that signed the broker's certificate; empty = the system's trusted roots.</summary>
    public string CaFile { get; set; } = "";
    /// <summary>Client certificate and key (PEM) for brokers that authenticate clients by certificate.</summary>
    public string ClientCertificateFile { get; set; } = "";
    public string ClientKeyFile { get; set; } = "";
    public int KeepAliveSeconds { get; set; } = 15;
    /// <summary>How long the broker keeps the session (and queued image messages) while the agent is away.</summary>
    public uint SessionExpirySeconds { get; set; } = 86_400;
    public int ReconnectMinMilliseconds { get; set; } = 250;
    public int ReconnectMaxMilliseconds { get; set; } = 30_000;
}

/// <summary>Over-the-air deployment (`trainer deploy`). On only with trusted keys, or with <see cref="AllowUnsigned"/>.</summary>
public sealed class DeploymentOptions
{
    /// <summary>Accept unsigned models over the air when no TrustedKeys are set. Lab use only: anyone who can publish to the broker can then replace the model.</summary>
    public bool AllowUnsigned { get; set; }
    /// <summary>Largest artifact a deploy may announce (bytes).</summary>
    public long MaxArtifactBytes { get; set; } = 1L << 30;
    /// <summary>A transfer that has not moved for this long is deleted with its chunks.</summary>
    public double TransferExpiryMinutes { get; set; } = 60;
}

public sealed class SourcesOptions
{
    public FolderSourceOptions? Folder { get; set; }
    public MqttSourceOptions? Mqtt { get; set; }
    public MjpegSourceOptions? Mjpeg { get; set; }
    public HttpSourceOptions? Http { get; set; }
}

public sealed class FolderSourceOptions
{
    /// <summary>The drop folder; scored files move to done/ or failed/ inside it.</summary>
    public string Path { get; set; } = "";
    public string? Product { get; set; }
    /// <summary>A file counts as complete once its size and time stamp have not changed for this long.</summary>
    public int SettleMilliseconds { get; set; } = 500;
    public int PollMilliseconds { get; set; } = 200;
}

public sealed class MqttSourceOptions
{
    /// <summary>Topic filter carrying JPEG/PNG payloads; $share/group/topic spreads frames over several agents.</summary>
    public string Topic { get; set; } = "";
    public string? Product { get; set; }
}

public sealed class MjpegSourceOptions
{
    /// <summary>A command whose standard output is an MJPEG stream (ffmpeg, gst-launch-1.0); or "-" for our own stdin.</summary>
    public string Command { get; set; } = "";
    public string Arguments { get; set; } = "";
    public string? Product { get; set; }
    /// <summary>Wait before restarting a command that exited.</summary>
    public int RestartSeconds { get; set; } = 5;
}

public sealed class HttpSourceOptions
{
    public string Url { get; set; } = "";
    public int IntervalMilliseconds { get; set; } = 1000;
    public int TimeoutMilliseconds { get; set; } = 5000;
    public string? Product { get; set; }
}

public sealed class PipelineOptions
{
    /// <summary>Frames waiting for the scorer; live sources drop the oldest when it is full.</summary>
    public int QueueCapacity { get; set; } = 32;
    /// <summary>Frames scored together when they queue up.</summary>
    public int MaxBatch { get; set; } = 8;
    /// <summary>Most bytes of decoded frames a batch holds at once (a batch takes frames while their decoded size fits; one frame always).</summary>
    public long MaxBatchBytes { get; set; } = 512L << 20;
    /// <summary>The memory the agent may use, checked against the batch; 0: the service's MemoryMax (cgroup memory.max) when there is one.</summary>
    public long MemoryMaxBytes { get; set; }
}

public sealed class PublishingOptions
{
    public double MetricsIntervalSeconds { get; set; } = 30;
    /// <summary>Publish a JPEG overlay on {prefix}/heatmap for frames judged defect.</summary>
    public bool Heatmaps { get; set; }
    /// <summary>Outbox cap: beyond it the oldest unpublished verdicts are discarded (counted and logged).</summary>
    public int OutboxMaxMessages { get; set; } = 100_000;
    /// <summary>Outbox cap in bytes, applied the same way.</summary>
    public long OutboxMaxBytes { get; set; } = 1L << 30;
    /// <summary>A message the broker refuses (or drops the connection over) this many times in a row is set aside in outbox/rejected/.</summary>
    public int MaxPublishAttempts { get; set; } = 5;
    /// <summary>After a lost connection, messages the broker acknowledged this many seconds before are published again (0: off).</summary>
    public double RepublishWindowSeconds { get; set; } = 5;
    /// <summary>fsync each outbox entry, so that a power cut loses nothing (turn off only on wear-sensitive storage).</summary>
    public bool OutboxSync { get; set; } = true;
}

public sealed class FrameLimitsOptions
{
    public long MaxFrameBytes { get; set; } = 64L << 20;
    /// <summary>The camera's size: wider or taller frames are refused before decoding.</summary>
    public int MaxWidth { get; set; } = 8192;
    public int MaxHeight { get; set; } = 6144;
    /// <summary>Most pixels per frame; default MaxWidth x MaxHeight.</summary>
    public long? MaxPixels { get; set; }
    public long ResolvedMaxPixels => MaxPixels ?? (long)MaxWidth * MaxHeight;
    /// <summary>Longer side over shorter side.</summary>
    public double MaxAspectRatio { get; set; } = 16;
    /// <summary>Scans per progressive JPEG (each re-reads the whole image).</summary>
    public int MaxJpegScans { get; set; } = 64;
    /// <summary>Time one decode may take before the frame gets an error verdict.</summary>
    public int DecodeTimeoutMilliseconds { get; set; } = 5000;
    /// <summary>Frames are JPEG, PNG or BMP; TIFF only when turned on (its decoder is a larger attack surface).</summary>
    public bool AcceptTiff { get; set; }

    public Imaging.ImageLimits ToImageLimits() => new()
    {
        MaxBytes = MaxFrameBytes, MaxWidth = MaxWidth, MaxHeight = MaxHeight, MaxPixels = ResolvedMaxPixels,
        MaxAspectRatio = MaxAspectRatio, MaxJpegScans = MaxJpegScans, DecodeTimeout = TimeSpan.FromMilliseconds(DecodeTimeoutMilliseconds),
        AcceptTiff = AcceptTiff,
    };
}

/// <summary>The local live page (docs/AGENT-PAGE.md): recent frames, counters, models, /metrics and /healthz.</summary>
public sealed class WebOptions
{
    /// <summary>Where the page listens: http URLs separated by ';'. Empty turns it off. Loopback by default, so nothing is exposed unless configured.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";
    /// <summary>A file holding the access token; required when <see cref="Urls"/> names an address other machines can reach.</summary>
    public string TokenFile { get; set; } = "";
    /// <summary>The token itself, for EDGEPATCHCORE__Agent__Web__Token from a secret store; never logged.</summary>
    public string Token { get; set; } = "";
    /// <summary>How many recent frames the page shows (with their heat maps, held in memory).</summary>
    public int RecentFrames { get; set; } = 24;

    public const int MinTokenLength = 16;

    public bool Enabled => !string.IsNullOrWhiteSpace(Urls);
    public IReadOnlyList<string> UrlList => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// True when every URL binds a loopback address: an IP literal in 127.0.0.0/8 or [::1], or "localhost" (which the
    /// web server binds to both loopback addresses). Any other host name is not loopback here, whatever it resolves to:
    /// the server would listen on every interface for it.
    /// </summary>
    public bool LoopbackOnly => UrlList.All(u => IsLoopbackHost(HostOf(u)));

    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>
    /// The host exactly as written in <paramref name="url"/>, as the web server reads it. (System.Uri is no judge here: it
    /// rewrites the host "loopback" to "localhost", while the server binds every interface for it.)
    /// </summary>
    public static string HostOf(string url)
    {
        int start = url.IndexOf("://", StringComparison.Ordinal);
        string rest = start < 0 ? url : url[(start + 3)..];
        int end = rest.StartsWith('[') ? rest.IndexOf(']') + 1 : rest.IndexOfAny([':', '/']);
        return end <= 0 ? rest : rest[..end];
    }

    /// <summary>The token from <see cref="TokenFile"/> or <see cref="Token"/>; empty when neither is set.</summary>
    public string ReadToken() => !string.IsNullOrEmpty(TokenFile) ? File.ReadAllText(TokenFile).Trim() : Token.Trim();
}

/// <summary>Sparkplug B 3.0 edge node (docs/SPARKPLUG.md): off by default; the JSON topics stay as they are.</summary>
public sealed class SparkplugOptions
{
    public bool Enabled { get; set; }
    /// <summary>The Sparkplug group (e.g. the plant or the line).</summary>
    public string GroupId { get; set; } = "";
    /// <summary>The edge node id; empty means Agent:DeviceId.</summary>
    public string EdgeNodeId { get; set; } = "";
    /// <summary>When set, the node publishes only while this primary host application says it is online (its STATE message).</summary>
    public string PrimaryHostId { get; set; } = "";
}

/// <summary>Teaching good parts (docs/TEACH.md): the recent frames the agent keeps so that operators can mark them good.</summary>
public sealed class TeachOptions
{
    /// <summary>Scored frames kept under {StateDirectory}/frames (0: none, and {prefix}/teach is refused).</summary>
    public int KeepFrames { get; set; } = 500;
    /// <summary>Defect and error frames kept apart from the others, so that a long run of good parts does not push them out (0: kept among KeepFrames).</summary>
    public int KeepRejects { get; set; }
    /// <summary>Most bytes those frames take; the oldest go first.</summary>
    public long KeepBytes { get; set; } = 1L << 30;
    /// <summary>Most frames the teach set holds until `trainer collect --clear` takes them.</summary>
    public int MaxTaught { get; set; } = 1000;
    /// <summary>Extend the served model on the device with every frame taught and serve the derived, unsigned model at once.</summary>
    public bool OnDevice { get; set; }
    /// <summary>With RequireSignature (trusted keys), serving those unsigned derived models must be allowed explicitly.</summary>
    public bool AllowUnsignedDerived { get; set; }
    /// <summary>Most rows a derived model may add to its signed parent's bank; a teach that would add more is not served (the signed model stays).</summary>
    public int MaxDerivedRows { get; set; } = 20_000;
    /// <summary>Most bytes of images the teach set holds (beside <see cref="MaxTaught"/>).</summary>
    public long MaxTaughtBytes { get; set; } = 1L << 30;
    /// <summary>A file holding the line's secret (at least 32 characters) that SCADA's teach messages are authenticated with (HMAC-SHA256).</summary>
    public string SecretFile { get; set; } = "";
    /// <summary>The secret's name: teach messages carry it as keyId, and taught frames record it as who taught them.</summary>
    public string SecretId { get; set; } = "scada";
    /// <summary>A teach message is taken within this many seconds of its issuedAt (either side), and its nonce remembered that long.</summary>
    public double MaxAgeSeconds { get; set; } = 300;

    /// <summary>What this device does with unsigned derived models, in one sentence (said at start-up and by check-config).</summary>
    public string DerivedModelsSentence(bool signatureRequired) => !OnDevice
        ? "unsigned derived models allowed: no (Agent:Teach:OnDevice is off)"
        : $"unsigned derived models allowed: yes: on-device teaching (Agent:Teach:OnDevice) extends the signed model with the taught frames and serves " +
          $"the result unsigned{(signatureRequired ? ", although this device requires signatures (Agent:Teach:AllowUnsignedDerived)" : "")}; " +
          $"at most {MaxDerivedRows} added rows; trainer collect --revert --sign KEY.pem serves the signed model again";

    /// <summary>systemd's LoadCredential= name for the secret: $CREDENTIALS_DIRECTORY/teach-secret.</summary>
    public const string SecretCredential = "teach-secret";
    public const int MinSecretLength = 32;

    /// <summary><see cref="SecretFile"/>, else the systemd credential when one was passed and is not empty; empty when neither.</summary>
    public string ResolvedSecretFile =>
        !string.IsNullOrEmpty(SecretFile) ? SecretFile
        : Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY") is { Length: > 0 } dir && new FileInfo(Path.Combine(dir, SecretCredential)) is { Exists: true, Length: > 0 }
            ? Path.Combine(dir, SecretCredential) : "";

    /// <summary>The secret's bytes (the file's text, trimmed); empty when none is configured.</summary>
    public byte[] ReadSecret() =>
        ResolvedSecretFile is { Length: > 0 } file ? System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim()) : [];
}
