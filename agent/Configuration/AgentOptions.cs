using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using EdgePatchCore.Scoring;
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
    /// <summary>How the kNN holds the bank: auto (float16 on CUDA, int8 on CPUs with int8 dot products, else float32), float32, float16 or
    /// int8.</summary>
    public BankPrecision BankPrecision { get; set; } = BankPrecision.Auto;
    /// <summary>How a frame's patches are searched: bounded (exact image scores from a fraction of the bank where the model has a cell index,
    /// else exhaustive) or exhaustive.</summary>
    public PatchSearchKind Search { get; set; } = PatchSearchKind.Bounded;
    /// <summary>The backbone's convolutions: auto (the precision the model's bank was embedded at, where this machine runs it well), float32
    /// or int8.</summary>
    public EdgePatchCore.Embedding.BackbonePrecision BackbonePrecision { get; set; } = EdgePatchCore.Embedding.BackbonePrecision.Auto;

    /// <summary>The REVIEW band: ok parts scoring at or above this false-reject quantile of the model's out-of-fold good scores are marked for
    /// review (verdict "review": true; REVIEW on {prefix}/result). 0: no band.</summary>
    public double ReviewRate { get; set; }

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
    public TriggersOptions Triggers { get; set; } = new();

    public string ResolvedTopicPrefix => string.IsNullOrWhiteSpace(TopicPrefix) ? $"edgepatchcore/{DeviceId}" : TopicPrefix.TrimEnd('/');

    public string ResolvedStateDirectory =>
        !string.IsNullOrWhiteSpace(StateDirectory) ? StateDirectory
        : Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } systemd ? systemd.Split(':')[0]
        : "/var/lib/edgepatchcore";

    /// <summary>The configured models: <see cref="Models"/> plus the <see cref="Artifact"/> shortcut.</summary>
    public IReadOnlyList<ModelOptions> AllModels =>
        string.IsNullOrWhiteSpace(Artifact) ? Models : [new ModelOptions { Artifact = Artifact }, .. Models];
}
